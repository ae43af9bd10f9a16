/* config: implemented by the config module */
typedef int d1_config_placeholder;
