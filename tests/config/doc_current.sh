#!/bin/sh
# Check that doc/config.md is what `d1 config doc` generates from sim/arch/config.def.
# usage: doc_current.sh D1 DOC_FILE
d1=$1
. "$(dirname "$0")/../cli_lib.sh"
doc_current config "$2" sim/arch/config.def
