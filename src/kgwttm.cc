// The native half of kgwttm: one stateless function around one syscall.
//
// getPeer(fd, optname) calls getsockopt(fd, SOL_IP, optname) for the 20-byte
// peer record of the kgwttm kernel module and returns either the decoded
// record { family: 4 | 6, address, port } or the errno as a plain number.
// It never throws for a failing syscall: which errno means "no answer" (and
// which fd to ask) is decided in lib/, where the socket objects are. There is
// no state here, so the module is safe to load in any number of worker
// threads (NODE_API_MODULE registers it context-aware).

#include <napi.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

// The ABI: level SOL_IP, optname KGWTTM_SO_GET_PEER, a struct ttm_peer answer.
#include "../kmod/uapi/kgwttm.h"

static_assert(sizeof(struct ttm_peer) == 20, "the kgwttm peer ABI is 20 bytes");

namespace {

Napi::Value GetPeer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // lib/ validates; this only keeps a misuse from reaching the syscall.
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "getPeer(fd, optname) takes two numbers")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  int optname = info[1].As<Napi::Number>().Int32Value();

  struct ttm_peer peer;
  memset(&peer, 0, sizeof peer);
  socklen_t len = sizeof peer;
  if (getsockopt(fd, SOL_IP, optname, &peer, &len) != 0)
    return Napi::Number::New(env, errno);

  // A record we cannot read is a protocol error, not a peer: a shorter answer
  // or an unknown family means something else answered this optname.
  char text[INET6_ADDRSTRLEN];
  int family;
  if (len == sizeof peer && peer.af == AF_INET &&
      inet_ntop(AF_INET, &peer.ip, text, sizeof text) != nullptr)
    family = 4;
  else if (len == sizeof peer && peer.af == AF_INET6 &&
           inet_ntop(AF_INET6, peer.ip6, text, sizeof text) != nullptr)
    family = 6;
  else
    return Napi::Number::New(env, EPROTO);

  Napi::Object result = Napi::Object::New(env);
  result.Set("family", Napi::Number::New(env, family));
  result.Set("address", Napi::String::New(env, text));
  result.Set("port", Napi::Number::New(env, ntohs(peer.port)));
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("getPeer", Napi::Function::New(env, GetPeer, "getPeer"));
  // The header's optname, so that a test can check lib/'s copy of it.
  exports.Set("defaultOptname", Napi::Number::New(env, KGWTTM_SO_GET_PEER));
  return exports;
}

}  // namespace

NODE_API_MODULE(kgwttm, Init)
