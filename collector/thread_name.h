// Names the calling thread as `top -H`, `ps -L` and /proc/<pid>/task/<tid>/comm show it, so an
// operator (and bench/ingest/threads.sh) can tell the writer from the handlers. Threads inherit
// the name of the thread that starts them: httplib's pool threads are started by the listener
// after it named itself, so they show as "tally-http" too.
#ifndef TALLY_COLLECTOR_THREAD_NAME_H_
#define TALLY_COLLECTOR_THREAD_NAME_H_

#include <pthread.h>

#include <thread>

namespace tally::collector {

/// Names `thread` (from the thread that started it, so the name is there as soon as this
/// returns). `name` is at most 15 characters (Linux's limit; a longer one is ignored).
inline void NameThread(std::thread& thread, const char* name) {
  pthread_setname_np(thread.native_handle(), name);
}

/// Names the calling thread; threads it starts afterwards inherit the name.
inline void NameThisThread(const char* name) { pthread_setname_np(pthread_self(), name); }

}  // namespace tally::collector

#endif  // TALLY_COLLECTOR_THREAD_NAME_H_
