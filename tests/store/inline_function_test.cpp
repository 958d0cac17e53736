#include "store/inline_function.h"

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace gatehouse::store {
namespace {

using Callback = InlineFunction<int(int), 48>;

// Counts the live copies of a target, to check that every path destroys what it holds exactly once.
struct Tracked {
  explicit Tracked(int* counter) : live(counter) { ++*live; }
  Tracked(Tracked&& other) noexcept : live(other.live) { ++*live; }
  Tracked(const Tracked&) = delete;
  ~Tracked() { --*live; }
  int* live;
};

TEST(InlineFunction, CallsASmallTargetHeldInline) {
  int offset = 10;
  Callback add([&offset](int x) { return x + offset; });
  ASSERT_TRUE(add);
  EXPECT_EQ(add(5), 15);
  offset = 20;
  EXPECT_EQ(add(5), 25);
}

TEST(InlineFunction, CallsATargetTooBigToBeInline) {
  std::array<int, 32> table{};  // 128 bytes: over the 48 inline
  table[3] = 7;
  Callback lookup([table](int i) { return table[static_cast<std::size_t>(i)]; });
  EXPECT_EQ(lookup(3), 7);
  Callback moved = std::move(lookup);
  EXPECT_FALSE(lookup);  // NOLINT(bugprone-use-after-move): a moved-from callback is empty
  EXPECT_EQ(moved(3), 7);
}

TEST(InlineFunction, HoldsMoveOnlyTargets) {
  auto owned = std::make_unique<int>(41);
  Callback plus([owned = std::move(owned)](int x) { return *owned + x; });
  EXPECT_EQ(plus(1), 42);
}

TEST(InlineFunction, DestroysItsTargetOnceWhateverPathItTakes) {
  int live = 0;
  {
    Callback small([tracked = Tracked(&live)](int x) { return x; });
    std::array<char, 64> padding{};
    Callback big([tracked = Tracked(&live), padding](int x) { return x + padding[0]; });
    EXPECT_EQ(live, 2);
    Callback moved_small = std::move(small);
    Callback moved_big = std::move(big);
    EXPECT_EQ(live, 2);
    moved_small = std::move(moved_big);  // the inline target is destroyed, the heap one moves over
    EXPECT_EQ(live, 1);
    moved_small = nullptr;
    EXPECT_EQ(live, 0);
    EXPECT_FALSE(moved_small);
  }
  EXPECT_EQ(live, 0);
}

TEST(InlineFunction, AnEmptyStdFunctionOrNullptrMakesAnEmptyCallback) {
  EXPECT_FALSE(Callback(nullptr));
  EXPECT_FALSE(Callback(std::function<int(int)>()));
  EXPECT_FALSE(Callback(static_cast<int (*)(int)>(nullptr)));
  Callback from_std(std::function<int(int)>([](int x) { return -x; }));
  ASSERT_TRUE(from_std);
  EXPECT_EQ(from_std(3), -3);
}

TEST(InlineFunction, PassesReferenceArgumentsThrough) {
  InlineFunction<void(std::string&, const std::string&), 16> append(
      [](std::string& out, const std::string& text) { out += text; });
  std::string out = "a";
  append(out, "bc");
  EXPECT_EQ(out, "abc");
}

}  // namespace
}  // namespace gatehouse::store
