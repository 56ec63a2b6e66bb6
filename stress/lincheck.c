#include "harness.h"
typedef int lincheck_placeholder;
