# Always-on warnings (style guide B.10). -Werror, sanitizers and hardening come from CMakePresets.json.
add_library(kazoo_bridge_warnings INTERFACE)
target_compile_options(kazoo_bridge_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Woverloaded-virtual -Wold-style-cast -Wimplicit-fallthrough)
