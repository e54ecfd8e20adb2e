// SPDX-License-Identifier: MIT
// The native half of kgwttm: one function around one syscall, and the record it fills.
//
// getPeer(fd, optname) calls getsockopt(fd, SOL_IP, optname) for the 20-byte
// peer record of the kgwttm kernel module, straight into `record` (exported
// beside it: a Uint8Array over memory of the addon's, one per environment),
// and returns 0 or the negated errno as a plain number (Node's sign for
// errno). It never throws for a failing syscall: which errno means "no
// answer" (and which fd to ask) is decided in lib/, where the socket objects
// are. Nothing else is kept here, so the module is safe to load in any number
// of worker threads (NODE_API_MODULE registers it context-aware, and each
// environment gets its own record).
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

// The record getPeer fills: one per environment (main thread, each worker),
// owned here and lent to JavaScript as the `record` Uint8Array, so that a call
// converts two integers and no typed array (napi_get_typedarray_info was a
// tenth of the first getRealPeer in bench/).
struct Record {
  uint8_t bytes[sizeof(struct ttm_peer)];
};

Napi::Value GetPeer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // lib/ validates; this only keeps a misuse from reaching the syscall. One
  // N-API call per argument: this runs once per connection.
  int32_t fd, optname;
  if (info.Length() < 2 ||
      napi_get_value_int32(env, info[0], &fd) != napi_ok ||
      napi_get_value_int32(env, info[1], &optname) != napi_ok) {
    Napi::TypeError::New(env, "getPeer(fd, optname) takes two numbers")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto* record = static_cast<Record*>(info.Data());
  socklen_t len = sizeof(record->bytes);
  if (getsockopt(fd, SOL_IP, optname, record->bytes, &len) != 0)
    return Napi::Number::New(env, -errno);
  // A shorter answer means something else answered this optname.
  return Napi::Number::New(env, len == sizeof(struct ttm_peer) ? 0 : -EPROTO);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Freed with the environment, after its last JavaScript ran.
  auto* record = new Record();
  env.SetInstanceData<Record>(record);
  auto buffer = Napi::ArrayBuffer::New(env, record->bytes, sizeof(record->bytes));
  exports.Set("record", Napi::Uint8Array::New(env, sizeof(record->bytes), buffer, 0));
  exports.Set("getPeer", Napi::Function::New(env, GetPeer, "getPeer", record));
  // The header's optname, so that a test can check lib/'s copy of it.
  exports.Set("defaultOptname", Napi::Number::New(env, KGWTTM_SO_GET_PEER));
  return exports;
}

}  // namespace

NODE_API_MODULE(kgwttm, Init)
