/* Keeps the support library non-empty when no helpers exist yet. */
typedef int bcdi_test_support_unused;
