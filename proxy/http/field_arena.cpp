#include "proxy/http/field_arena.h"

#include <new>

namespace gatehouse::http {

void* FieldArena::allocateOnHeap(std::size_t bytes, std::size_t alignment) {
  pool_.countHeapAllocation();
  if (alignment <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) return ::operator new(bytes);
  return ::operator new (bytes, std::align_val_t{alignment});
}

void FieldArena::deallocateOnHeap(void* pointer, std::size_t bytes, std::size_t alignment) noexcept {
  if (alignment <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) return ::operator delete(pointer, bytes);
  ::operator delete (pointer, bytes, std::align_val_t{alignment});
}

}  // namespace gatehouse::http
