/* gemm: implemented by the gemm module */
typedef int d1r_gemm_placeholder;
