// Who is calling a gRPC method (docs/security.md): the "authorization" metadata
// (Bearer <api key | JWT>, Basic), else a verified TLS client certificate from the
// call's auth context (x509 subject / common name, when the listener has TLS),
// through the same Authenticator as HTTP. Without access control: anonymous.
#pragma once

#include <grpcpp/grpcpp.h>

#include "evmesh/control/auth.h"
#include "service_context.h"

namespace evmesh::grpc_adapter {

Result<control::Principal> authenticate_call(const ServiceContext& ctx,
                                             const grpc::ServerContextBase& call);

// The verified client certificate of a call, empty without one.
control::PeerCertificate peer_certificate(const grpc::ServerContextBase& call);

}  // namespace evmesh::grpc_adapter
