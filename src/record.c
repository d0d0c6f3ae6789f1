/* record: being written. */
#include "config.h"

#include "record.h"
