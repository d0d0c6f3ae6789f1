/* cfg: being written. */
#include "config.h"

#include "cfg.h"
