// b24sync entry point: everything lives in b24sync_app; this file only hands over argv.
#include "app/cli.hpp"

int main(int argc, char** argv) { return b24sync::app::run_cli(argc, argv); }
