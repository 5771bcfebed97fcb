#include "topic_tree.h"

namespace evmesh::mqtt {

struct Member {
  SessionPtr session;
  SubOptions options;
};

struct SharedGroup {
  std::vector<Member> members;
  mutable std::atomic<std::size_t> next{0};
};

struct TopicTree::Node {
  std::unordered_map<std::string, std::unique_ptr<Node>> children;
  std::unordered_map<const Session*, Member> subs;
  std::map<std::string, std::unique_ptr<SharedGroup>, std::less<>> shared;
  bool empty() const { return children.empty() && subs.empty() && shared.empty(); }
};

namespace {

template <typename F>
void for_each_level(std::string_view s, F&& f) {
  std::size_t start = 0;
  while (true) {
    auto end = s.find('/', start);
    if (end == std::string_view::npos) {
      f(s.substr(start));
      return;
    }
    f(s.substr(start, end - start));
    start = end + 1;
  }
}

std::vector<std::string_view> levels_of(std::string_view s) {
  std::vector<std::string_view> out;
  for_each_level(s, [&](std::string_view l) { out.push_back(l); });
  return out;
}

}  // namespace

TopicTree::TopicTree() : root_(std::make_unique<Node>()) {}
TopicTree::~TopicTree() = default;

bool TopicTree::add(std::string_view filter, std::string_view group, const SessionPtr& s,
                    const SubOptions& o) {
  Node* n = root_.get();
  for_each_level(filter, [&](std::string_view level) {
    auto& child = n->children[std::string(level)];
    if (!child) child = std::make_unique<Node>();
    n = child.get();
  });
  if (group.empty()) {
    auto [it, fresh] = n->subs.insert_or_assign(s.get(), Member{s, o});
    if (fresh) ++count_;
    return fresh;
  }
  auto& g = n->shared[std::string(group)];
  if (!g) g = std::make_unique<SharedGroup>();
  for (auto& m : g->members)
    if (m.session == s) {
      m.options = o;
      return false;
    }
  g->members.push_back({s, o});
  ++count_;
  return true;
}

bool TopicTree::remove(std::string_view filter, std::string_view group, const Session* s) {
  auto levels = levels_of(filter);
  std::vector<std::pair<Node*, std::string_view>> path;  // parent, child name
  Node* n = root_.get();
  for (auto level : levels) {
    auto it = n->children.find(std::string(level));
    if (it == n->children.end()) return false;
    path.emplace_back(n, level);
    n = it->second.get();
  }
  bool removed = false;
  if (group.empty()) {
    removed = n->subs.erase(s) > 0;
  } else if (auto g = n->shared.find(group); g != n->shared.end()) {
    auto& members = g->second->members;
    auto it = std::find_if(members.begin(), members.end(), [&](const Member& m) { return m.session.get() == s; });
    if (it != members.end()) {
      members.erase(it);
      removed = true;
    }
    if (members.empty()) n->shared.erase(g);
  }
  if (removed) --count_;
  // Prune empty nodes bottom-up so the trie does not grow with churn.
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    auto child = it->first->children.find(std::string(it->second));
    if (!child->second->empty()) break;
    it->first->children.erase(child);
  }
  return removed;
}

namespace {

void visit_node(const TopicTree::Visit& f, const std::function<bool(const Session&)>& connected,
                const auto& node) {
  for (const auto& [_, m] : node.subs) f(m.session, m.options, false);
  for (const auto& [_, g] : node.shared) {
    const auto& members = g->members;
    if (members.empty()) continue;
    auto start = g->next.fetch_add(1, std::memory_order_relaxed);
    const Member* chosen = &members[start % members.size()];
    for (std::size_t i = 0; i < members.size(); ++i) {
      const auto& m = members[(start + i) % members.size()];
      if (connected(*m.session)) {
        chosen = &m;
        break;
      }
    }
    f(chosen->session, chosen->options, true);
  }
}

}  // namespace

void TopicTree::match(std::string_view topic, const Visit& f,
                      const std::function<bool(const Session&)>& connected) const {
  auto levels = levels_of(topic);
  bool dollar = !topic.empty() && topic[0] == '$';
  // Depth-first over (node, level index); wildcards are children named "+" / "#".
  struct Frame {
    const Node* node;
    std::size_t depth;
  };
  std::vector<Frame> stack{{root_.get(), 0}};
  while (!stack.empty()) {
    auto [n, depth] = stack.back();
    stack.pop_back();
    bool wildcard_ok = !(dollar && depth == 0);
    if (wildcard_ok)
      if (auto hash = n->children.find("#"); hash != n->children.end()) visit_node(f, connected, *hash->second);
    if (depth == levels.size()) {
      visit_node(f, connected, *n);
      continue;
    }
    if (auto exact = n->children.find(std::string(levels[depth])); exact != n->children.end())
      stack.push_back({exact->second.get(), depth + 1});
    if (wildcard_ok)
      if (auto plus = n->children.find("+"); plus != n->children.end())
        stack.push_back({plus->second.get(), depth + 1});
  }
}

bool split_shared(std::string_view full, std::string_view& group, std::string_view& filter) {
  constexpr std::string_view kShare = "$share/";
  group = {};
  filter = full;
  if (!full.starts_with(kShare)) return true;
  auto rest = full.substr(kShare.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return false;
  group = rest.substr(0, slash);
  filter = rest.substr(slash + 1);
  if (group.find_first_of("+#") != std::string_view::npos || filter.empty()) return false;
  return true;
}

}  // namespace evmesh::mqtt
