// Lazy<C>: a standard associative container that takes 8 bytes until first used.
// Per-connection and per-session state most MQTT clients never touch (topic aliases,
// QoS 2 packet ids, messages in flight) would otherwise cost the empty container's
// size inline (48–56 bytes each), and every idle connection has them.
//
// Reading calls (size, empty, contains, erase by key) never allocate; find/end/begin
// make the container, so call them only on the path that uses it.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

namespace evmesh::mqtt {

template <typename C>
class Lazy {
 public:
  using key_type = typename C::key_type;

  bool empty() const { return !c_ || c_->empty(); }
  std::size_t size() const { return c_ ? c_->size() : 0; }
  bool contains(const key_type& k) const { return c_ && c_->contains(k); }
  std::size_t erase(const key_type& k) { return c_ ? c_->erase(k) : 0; }
  auto erase(typename C::iterator it) { return get().erase(it); }
  void clear() { c_.reset(); }

  auto find(const key_type& k) { return get().find(k); }
  auto begin() { return get().begin(); }
  auto end() { return get().end(); }
  template <typename... Args>
  auto emplace(Args&&... args) {
    return get().emplace(std::forward<Args>(args)...);
  }
  template <typename V>
  auto insert(V&& v) {
    return get().insert(std::forward<V>(v));
  }
  auto& operator[](const key_type& k) { return get()[k]; }

 private:
  C& get() {
    if (!c_) c_ = std::make_unique<C>();
    return *c_;
  }
  std::unique_ptr<C> c_;
};

}  // namespace evmesh::mqtt
