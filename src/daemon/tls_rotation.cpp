#include "tls_rotation.h"

namespace evmesh::daemon {

void TlsRotation::add(std::shared_ptr<tls::ServerTls> listener, Section section) {
  if (listener) listeners_.push_back({std::move(listener), std::move(section)});
}

Result<TlsRotation::Plan> TlsRotation::prepare(const control::Config& next) const {
  Plan plan;
  for (const auto& l : listeners_) {
    auto loaded = l.tls->prepare(l.section(next));
    if (!loaded) return std::unexpected(loaded.error());
    if (!*loaded) continue;  // unchanged, or TLS turned off (a restart)
    plan.changes.push_back(l.tls->key() + ": certificate reloaded");
    plan.renew.emplace_back(l.tls, std::move(*loaded));
  }
  return plan;
}

std::vector<std::string> TlsRotation::install(Plan plan) const {
  for (auto& [listener, loaded] : plan.renew) listener->install(std::move(loaded));
  return std::move(plan.changes);
}

std::vector<std::filesystem::path> tls_files(const control::Config& config) {
  std::vector<std::filesystem::path> out;
  for (const auto* t : {&config.http.tls, &config.admin.tls, &config.mqtt.tls, &config.grpc.tls})
    for (const auto* f : {&t->cert_file, &t->key_file, &t->client_ca_file})
      if (!f->empty()) out.emplace_back(*f);
  return out;
}

}  // namespace evmesh::daemon
