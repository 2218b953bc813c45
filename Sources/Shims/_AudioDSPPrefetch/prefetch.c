// The header's inline function is all there is; SwiftPM needs one C file per C target.
#include "_AudioDSPPrefetch.h"
