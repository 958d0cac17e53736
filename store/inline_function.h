// A move-only callable with its target stored inline, for callbacks created on every request. std::function
// stores a target inline only when it is trivially copyable and at most two pointers big, so a completion
// handler that captures another callback (a std::function, a weak_ptr) costs a malloc and a free per call.
// Targets up to kInlineBytes live inside the object; bigger ones go to the heap, so any callable works.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace gatehouse::store {

template <class Signature, std::size_t kInlineBytes>
class InlineFunction;

template <class T>
struct IsStdFunction : std::false_type {};
template <class Signature>
struct IsStdFunction<std::function<Signature>> : std::true_type {};

template <class R, class... Args, std::size_t kInlineBytes>
class InlineFunction<R(Args...), kInlineBytes> {
 public:
  InlineFunction() noexcept = default;
  InlineFunction(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor): like std::function

  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, InlineFunction> &&
           std::is_invocable_r_v<R, std::remove_cvref_t<F>&, Args...>)
      InlineFunction(F&& target) {  // NOLINT(google-explicit-constructor): like std::function
    using Target = std::remove_cvref_t<F>;
    if constexpr (std::is_pointer_v<Target> || std::is_member_pointer_v<Target> ||
                  IsStdFunction<Target>::value) {
      if (target == nullptr) return;  // an empty std::function or a null pointer makes an empty callback
    }
    if constexpr (fitsInline<Target>()) {
      ::new (static_cast<void*>(storage_)) Target(std::forward<F>(target));
      ops_ = &kInlineOps<Target>;
    } else {
      // Owned through the pointer stored inline; kHeapOps deletes it.
      ::new (static_cast<void*>(storage_))
          Target*(std::make_unique<Target>(std::forward<F>(target)).release());
      ops_ = &kHeapOps<Target>;
    }
  }

  InlineFunction(InlineFunction&& other) noexcept { takeFrom(other); }
  InlineFunction& operator=(InlineFunction&& other) noexcept {
    if (this != &other) {
      reset();
      takeFrom(other);
    }
    return *this;
  }
  InlineFunction& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }
  InlineFunction(const InlineFunction&) = delete;
  InlineFunction& operator=(const InlineFunction&) = delete;
  ~InlineFunction() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }

  // const, like std::function's: calling does not change which target is held. Must not be empty.
  R operator()(Args... args) const { return ops_->invoke(storage_, std::forward<Args>(args)...); }

 private:
  struct Ops {
    R (*invoke)(void* storage, Args&&... args);
    void (*move)(void* to, void* from) noexcept;  // move-constructs into `to`, destroys `from`
    void (*destroy)(void* storage) noexcept;
  };

  template <class Target>
  static constexpr bool fitsInline() {
    return sizeof(Target) <= kInlineBytes && alignof(Target) <= alignof(std::max_align_t) &&
           std::is_nothrow_move_constructible_v<Target>;
  }

  template <class Target>
  static constexpr Ops kInlineOps{[](void* storage, Args&&... args) -> R {
                                    return std::invoke(*static_cast<Target*>(storage),
                                                       std::forward<Args>(args)...);
                                  },
                                  [](void* to, void* from) noexcept {
                                    auto* source = static_cast<Target*>(from);
                                    ::new (to) Target(std::move(*source));
                                    source->~Target();
                                  },
                                  [](void* storage) noexcept { static_cast<Target*>(storage)->~Target(); }};

  template <class Target>
  static constexpr Ops kHeapOps{
      [](void* storage, Args&&... args) -> R {
        return std::invoke(**static_cast<Target**>(storage), std::forward<Args>(args)...);
      },
      [](void* to, void* from) noexcept { ::new (to) Target*(*static_cast<Target**>(from)); },
      [](void* storage) noexcept { delete *static_cast<Target**>(storage); }};

  void takeFrom(InlineFunction& other) noexcept {
    if (other.ops_ == nullptr) return;
    other.ops_->move(storage_, other.storage_);
    ops_ = std::exchange(other.ops_, nullptr);
  }

  void reset() noexcept {
    if (ops_ == nullptr) return;
    std::exchange(ops_, nullptr)->destroy(storage_);
  }

  alignas(std::max_align_t) mutable unsigned char storage_[kInlineBytes];
  const Ops* ops_ = nullptr;
};

}  // namespace gatehouse::store
