#include "config.h"
#include "segfile.h"
