"""A minimal client of gRPC server reflection (grpc.reflection.v1alpha), with its
messages built from descriptors here: Debian ships neither reflection.proto nor the
grpcio-reflection package. Only what the tests use: list_services and
file_containing_symbol, and a DescriptorPool built from the files the server sends,
from which any method can be called without our .proto files (as grpcurl does)."""

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

METHOD = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
_F = descriptor_pb2.FieldDescriptorProto


def _message(file, name, *fields, oneof=None):
    msg = file.message_type.add(name=name)
    if oneof:
        msg.oneof_decl.add(name=oneof)
    for number, field_name, kind, extra in fields:
        f = msg.field.add(name=field_name, number=number, type=kind,
                          label=_F.LABEL_REPEATED if extra.get("repeated") else _F.LABEL_OPTIONAL)
        if "type_name" in extra:
            f.type_name = ".grpc.reflection.v1alpha." + extra["type_name"]
        if extra.get("oneof"):
            f.oneof_index = 0


def _classes():
    fd = descriptor_pb2.FileDescriptorProto(name="evmesh_tests/reflection.proto",
                                            package="grpc.reflection.v1alpha", syntax="proto3")
    S, B, M, I = _F.TYPE_STRING, _F.TYPE_BYTES, _F.TYPE_MESSAGE, _F.TYPE_INT32
    _message(fd, "ServerReflectionRequest", (1, "host", S, {}),
             (3, "file_by_filename", S, {"oneof": True}),
             (4, "file_containing_symbol", S, {"oneof": True}),
             (7, "list_services", S, {"oneof": True}), oneof="message_request")
    _message(fd, "FileDescriptorResponse", (1, "file_descriptor_proto", B, {"repeated": True}))
    _message(fd, "ServiceResponse", (1, "name", S, {}))
    _message(fd, "ListServiceResponse",
             (1, "service", M, {"repeated": True, "type_name": "ServiceResponse"}))
    _message(fd, "ErrorResponse", (1, "error_code", I, {}), (2, "error_message", S, {}))
    _message(fd, "ServerReflectionResponse", (1, "valid_host", S, {}),
             (2, "original_request", M, {"type_name": "ServerReflectionRequest"}),
             (4, "file_descriptor_response", M, {"oneof": True, "type_name": "FileDescriptorResponse"}),
             (6, "list_services_response", M, {"oneof": True, "type_name": "ListServiceResponse"}),
             (7, "error_response", M, {"oneof": True, "type_name": "ErrorResponse"}),
             oneof="message_response")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    factory = message_factory.MessageFactory(pool)
    get = lambda name: factory.GetPrototype(pool.FindMessageTypeByName("grpc.reflection.v1alpha." + name))
    return get("ServerReflectionRequest"), get("ServerReflectionResponse")


Request, Response = _classes()


def ask(channel, *requests, timeout=5):
    """Sends the requests on one reflection stream; returns the responses."""
    call = channel.stream_stream(METHOD, request_serializer=Request.SerializeToString,
                                 response_deserializer=Response.FromString)
    return list(call(iter(requests), timeout=timeout))


def pool_from(file_descriptor_protos):
    """A DescriptorPool of the serialized FileDescriptorProtos, dependencies first."""
    files = [descriptor_pb2.FileDescriptorProto.FromString(b) for b in file_descriptor_protos]
    pool, added = descriptor_pool.DescriptorPool(), set()
    while len(added) < len(files):
        progress = False
        for f in files:
            if f.name not in added and all(d in added for d in f.dependency):
                pool.Add(f)
                added.add(f.name)
                progress = True
        if not progress:
            missing = {d for f in files for d in f.dependency} - added
            raise AssertionError(f"the server did not send the files {sorted(missing)}")
    return pool, files


def message_class(pool, full_name):
    return message_factory.MessageFactory(pool).GetPrototype(pool.FindMessageTypeByName(full_name))
