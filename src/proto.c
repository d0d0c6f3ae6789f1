/* proto: being written. */
#include "config.h"

#include "proto.h"
