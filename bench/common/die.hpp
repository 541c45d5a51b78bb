// die(): how the bench gives up. An exception rather than exit(), so that the
// destructors on the way out (Stack's above all) stop, by pid, the processes
// a run started.
#pragma once

#include <stdexcept>
#include <string>

namespace bench {

[[noreturn]] inline void die(const std::string& what) {
  throw std::runtime_error(what);
}

}  // namespace bench
