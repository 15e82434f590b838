// tally-collector: the process around tally::collector::Collector (flags, signals, exit codes).
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>

#include "http/options.h"
#include "http/server.h"

extern char** environ;

int main(int argc, char** argv) {
  using namespace tally::collector;
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq && std::strncmp(*e, "TALLY_", 6) == 0)
      env[std::string(*e, static_cast<size_t>(eq - *e))] = eq + 1;
  }
  CollectorOptions options;
  Command command;
  tally::Status s = ParseCommandLine(argc, argv, env, &options, &command);
  if (!s.ok()) {
    std::fprintf(stderr, "tally-collector: %s\n", s.message().c_str());
    return 2;
  }
  if (command.kind == Command::Kind::kHelp) {
    std::fputs(HelpText(), stdout);
    return 0;
  }
  SystemClock clock;
  if (command.kind == Command::Kind::kKeys) {
    uint64_t seed[4] = {0, 0, 0, 0};
    std::ifstream("/dev/urandom", std::ios::binary)
        .read(reinterpret_cast<char*>(seed), sizeof(seed));
    tally::SeededRandom random(seed[0], seed[1], seed[2], seed[3]);
    return RunKeysCommand(options, command.keys_args, &clock, &random);
  }

  // Signals are taken synchronously by this thread; every other thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Collector collector(options, &clock);
  s = collector.Start();
  if (!s.ok()) {
    LogLine("error", "start failed", "{\"error\":\"see message\"}");
    std::fprintf(stderr, "tally-collector: %s\n", s.message().c_str());
    return 1;
  }
  if (options.demo) {
    std::printf(
        "demo: workspace demo, write key wk_demo, read key rk_demo, listening on http://%s:%d\n",
        options.host.c_str(), collector.port());
    std::fflush(stdout);
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  LogLine("info", "stopping", "{\"signal\":" + std::to_string(sig) + "}");
  collector.Stop();
  return 0;
}
