#pragma once
// Hooks that let a test make a rare moment happen on demand, driven by environment variables so the shipped program
// is the one tested. Without the variables they cost one getenv each, the first time.
//
// BERTSCOPE_TEST_PAUSE_AT=NAME[:N]  the N-th time (default: the first) the program reaches pause_point(NAME), it
//   prints "bertscope: test pause at NAME" on stderr and sleeps for a minute, so a test can kill it right there
//   (tests/test_kill.cpp kills training runs with SIGKILL in the middle of saving a model).
// BERTSCOPE_TEST_INTERRUPT_AT=NAME[:N]  the N-th time it reaches pause_point(NAME), the program raises SIGINT, as a
//   Ctrl+C at that very moment (tests/test_kill.cpp interrupts training runs during their last validation).
// BERTSCOPE_TEST_NO_RENAME_EXCHANGE=1  behave as on a file system without renameat2(RENAME_EXCHANGE) (FAT, NFS):
//   a folder is then replaced by two renames, and a kill between them must still lose nothing.
namespace bertscope::test_hooks {

void pause_point(const char* name);
bool rename_exchange_disabled();

}  // namespace bertscope::test_hooks
