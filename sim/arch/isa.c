/* isa: implemented by the ISA tools module */
typedef int d1_isa_placeholder;
