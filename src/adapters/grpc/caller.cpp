#include "caller.h"

#include <grpc/grpc_security_constants.h>

namespace evmesh::grpc_adapter {

control::PeerCertificate peer_certificate(const grpc::ServerContextBase& call) {
  control::PeerCertificate out;
  const auto auth = call.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) return out;
  auto first = [&](const char* name) {
    auto values = auth->FindPropertyValues(name);
    return values.empty() ? std::string() : std::string(values.front().data(), values.front().size());
  };
  out.subject_dn = first(GRPC_X509_SUBJECT_PROPERTY_NAME);
  out.common_name = first(GRPC_X509_CN_PROPERTY_NAME);
  return out;
}

Result<control::Principal> authenticate_call(const ServiceContext& ctx,
                                             const grpc::ServerContextBase& call) {
  if (!ctx.access) return control::Principal{std::string(control::kAnonymous), "anonymous"};
  const auto& metadata = call.client_metadata();
  std::string_view authorization;
  if (auto it = metadata.find("authorization"); it != metadata.end())
    authorization = std::string_view(it->second.data(), it->second.size());
  const auto cert = peer_certificate(call);
  return ctx.access->authenticate({authorization, &cert}, "grpc");
}

}  // namespace evmesh::grpc_adapter
