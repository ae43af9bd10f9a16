/* formats: implemented by the formats module */
