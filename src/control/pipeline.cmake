# Policies, schema registry and the ingress pipeline (control module), included at the
# end of src/CMakeLists.txt. valijson is header-only (libvalijson-dev): JSON Schema
# drafts 4 and 7 without writing a validator of our own; it reports schema errors
# by exception only when VALIJSON_USE_EXCEPTIONS is set (else it aborts).
target_sources(evmesh_control PRIVATE
  control/policy/condition.cpp
  control/policy/policy_spec.cpp
  control/policy/field_crypto.cpp
  control/policy/pipeline.cpp
  control/policy/control_plane.cpp
  control/schema/schema_registry.cpp
  control/schema/schema_compat.cpp
)
target_compile_definitions(evmesh_control PUBLIC VALIJSON_USE_EXCEPTIONS=1)
target_link_libraries(evmesh_control PUBLIC evmesh_codec OpenSSL::Crypto)
# evmeshctl decrypt: the same envelope code as the daemon.
target_link_libraries(evmeshctl PRIVATE evmesh_control)
target_sources(evmeshd PRIVATE daemon/reloader.cpp)
# Admin endpoints of the schema registry, policies and reload status.
target_sources(evmesh_http PRIVATE adapters/http/policy_admin.cpp)
