// The browser module's allocator (linked with -sMALLOC=none, wasm/CMakeLists.txt): segregated
// free lists of power-of-two blocks cut from the top of the heap, about a quarter of emmalloc's
// code.
//
// Each block is 2^k bytes (k >= 5) with a 16-byte header holding k, so every pointer handed out
// is 16-byte aligned (the top starts aligned and only moves by powers of two >= 32). A freed
// block goes onto the list of its size and is reused by the next request of that size; blocks
// are never split, merged or given back. That suits the tracker: its allocations are the queue's
// encoded events (bounded by QueueOptions), the output buffer and short-lived strings, so the
// heap settles at a small multiple of the queue's peak. The cost is up to 2x per block against a
// best-fit allocator (docs/DECISIONS.md, "Still open: the core module is over its size budget").
#include <emscripten/heap.h>  // emscripten_resize_heap: the glue grows the memory
#include <stddef.h>
#include <stdint.h>
#include <string.h>

namespace {

constexpr size_t kHeader = 16;
constexpr int kMinClass = 5;   // 32-byte blocks: 16 bytes of payload
constexpr int kMaxClass = 30;  // 1 GiB blocks; the module's memory stops at 2 GiB

struct FreeBlock {
  FreeBlock* next;
};
FreeBlock* free_lists[kMaxClass + 1];

// The block's header holds its class; the caller's bytes start kHeader bytes in.
int& ClassOf(void* payload) {
  return *reinterpret_cast<int*>(static_cast<char*>(payload) - kHeader);
}

// The top of the heap. The linker puts __heap_base after the data and the stack, 16-aligned.
extern "C" char __heap_base;
uintptr_t heap_top = reinterpret_cast<uintptr_t>(&__heap_base);

void* Allocate(size_t bytes) {
  if (bytes > (size_t{1} << kMaxClass) - kHeader) return nullptr;
  int k = kMinClass;
  while ((size_t{1} << k) < bytes + kHeader) ++k;
  char* block = reinterpret_cast<char*>(free_lists[k]);
  if (block != nullptr) {
    free_lists[k] = free_lists[k]->next;
  } else {
    const uintptr_t end = heap_top + (size_t{1} << k);
    if (end < heap_top) return nullptr;  // past 4 GiB
    // Memory growth goes through the glue, which renews its views of the memory.
    if (end > __builtin_wasm_memory_size(0) * 65536 && !emscripten_resize_heap(end)) {
      return nullptr;
    }
    block = reinterpret_cast<char*>(heap_top);
    heap_top = end;
  }
  void* payload = block + kHeader;
  ClassOf(payload) = k;
  return payload;
}

}  // namespace

extern "C" {

void* malloc(size_t bytes) { return Allocate(bytes); }

void free(void* ptr) {
  if (ptr == nullptr) return;
  const int k = ClassOf(ptr);
  auto* block = reinterpret_cast<FreeBlock*>(static_cast<char*>(ptr) - kHeader);
  block->next = free_lists[k];
  free_lists[k] = block;
}

void* calloc(size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size) return nullptr;
  void* p = Allocate(n * size);
  if (p != nullptr) memset(p, 0, n * size);
  return p;
}

void* realloc(void* ptr, size_t bytes) {
  if (ptr == nullptr) return Allocate(bytes);
  const size_t have = (size_t{1} << ClassOf(ptr)) - kHeader;
  if (bytes <= have) return ptr;
  void* p = Allocate(bytes);
  if (p == nullptr) return nullptr;
  memcpy(p, ptr, have);
  free(ptr);
  return p;
}

// Alignments above 16 are never asked for by the core; refused rather than mis-served.
int posix_memalign(void** out, size_t alignment, size_t bytes) {
  if (alignment > kHeader) return 12;  // ENOMEM
  *out = Allocate(bytes);
  return *out == nullptr ? 12 : 0;
}

void* aligned_alloc(size_t alignment, size_t bytes) {
  return alignment > kHeader ? nullptr : Allocate(bytes);
}

void* memalign(size_t alignment, size_t bytes) { return aligned_alloc(alignment, bytes); }

}  // extern "C"
