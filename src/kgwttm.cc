// SPDX-License-Identifier: MIT
// The native half of kgwttm: one stateless function around one syscall.
//
// getPeer(fd, optname, record) calls getsockopt(fd, SOL_IP, optname) for the
// 20-byte peer record of the kgwttm kernel module, straight into `record` (a
// Uint8Array of lib/'s), and returns 0 or the negated errno as a plain number
// (Node's sign for errno). It never throws for a failing syscall: which errno
// means "no answer" (and which fd to ask) is decided in lib/, where the socket
// objects are. There is no state here, so the module is safe to load in any
// number of worker threads (NODE_API_MODULE registers it context-aware).
// This is all an application loads: the operator CLI's native code is a
// separate addon (src/cli/).

#include <napi.h>

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

// The ABI: level SOL_IP, optname KGWTTM_SO_GET_PEER, a struct ttm_peer answer.
#include "../kmod/uapi/kgwttm.h"

static_assert(sizeof(struct ttm_peer) == 20, "the kgwttm peer ABI is 20 bytes");

namespace {

Napi::Value GetPeer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // lib/ validates; this only keeps a misuse from reaching the syscall. One
  // N-API call per argument: this runs once per connection.
  int32_t fd, optname;
  napi_typedarray_type type;
  size_t length = 0;
  void* record = nullptr;
  if (info.Length() < 3 ||
      napi_get_value_int32(env, info[0], &fd) != napi_ok ||
      napi_get_value_int32(env, info[1], &optname) != napi_ok ||
      napi_get_typedarray_info(env, info[2], &type, &length, &record, nullptr,
                               nullptr) != napi_ok ||
      type != napi_uint8_array || length < sizeof(struct ttm_peer)) {
    Napi::TypeError::New(
        env, "getPeer(fd, optname, record) takes two numbers and a 20-byte Uint8Array")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }

  // Straight into the caller's buffer: building a JS object here (property
  // writes, an address string) cost several times the syscall itself; lib/
  // decodes the 20 bytes, and only when there is something to decode.
  socklen_t len = sizeof(struct ttm_peer);
  if (getsockopt(fd, SOL_IP, optname, record, &len) != 0)
    return Napi::Number::New(env, -errno);
  // A shorter answer means something else answered this optname.
  return Napi::Number::New(env, len == sizeof(struct ttm_peer) ? 0 : -EPROTO);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("getPeer", Napi::Function::New(env, GetPeer, "getPeer"));
  // The header's optname, so that a test can check lib/'s copy of it.
  exports.Set("defaultOptname", Napi::Number::New(env, KGWTTM_SO_GET_PEER));
  return exports;
}

}  // namespace

NODE_API_MODULE(kgwttm, Init)
