// Thin on purpose: everything lives in the app module so that it can be tested.
#include <kazoo_bridge/app/cli.hpp>

int main(int argc, char** argv) { return kazoo_bridge::app::cli_main(argc, argv); }
