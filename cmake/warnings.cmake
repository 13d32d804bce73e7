# Always-on warnings (style guide B.10). -Werror, sanitizers and hardening come from CMakePresets.json.
add_library(kazoo_bridge_warnings INTERFACE)
target_compile_options(kazoo_bridge_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Woverloaded-virtual -Wold-style-cast -Wimplicit-fallthrough)
# GCC 12 reports -Wmismatched-new-delete on Asio's awaitable_frame_base (its class operator new/delete pair
# is matched; the inliner loses track of which one allocated the frame) in larger coroutines at -O1+.
# A compiler false positive, not ours to fix; Clang has no such warning here.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(kazoo_bridge_warnings INTERFACE -Wno-mismatched-new-delete)
endif()
