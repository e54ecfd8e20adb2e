// SPDX-License-Identifier: MIT
// The operator CLI's addon: setTun(fd, name), the TUNSETIFF ioctl that makes
// an open /dev/net/tun fd the TUN device `name`, for `kgwttm doctor`'s round
// trip, which plays a load balancer by writing raw IPv4 packets into it
// (lib/cli/roundtrip-child.ts).
//
// A separate addon from the library's (src/kgwttm.cc, which applications
// load): only the CLI loads this one. Node has no way to make the ioctl, so it
// is the one thing done natively; Node opens the device itself, non-blocking
// (net.Socket refuses a character device, and an fs.read pending on a
// blocking fd keeps a thread-pool thread in read(2) that process exit then
// waits for forever; lib/cli/tun.ts polls it with fs.readSync instead). The
// device lives as long as the fd, and the doctor only ever opens it inside a
// throwaway network namespace.
//
// As in the library's addon, a failing syscall is not thrown: the call
// returns 0 or a negated errno, and lib/ names it (lib/system-error.ts).

#include <napi.h>

#include <errno.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>

#include <string>

namespace {

Napi::Value SetTun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsString()) {
    Napi::TypeError::New(env, "setTun(fd, name) takes an fd and an interface name")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  if (name.empty() || name.size() >= IFNAMSIZ) {
    Napi::TypeError::New(env, "setTun(fd, name): the name must be 1 to 15 bytes")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }

  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  memcpy(ifr.ifr_name, name.data(), name.size());
  // Bare IP packets: no packet-information header in front of each one.
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) return Napi::Number::New(env, -errno);
  return Napi::Number::New(env, 0);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("setTun", Napi::Function::New(env, SetTun, "setTun"));
  return exports;
}

}  // namespace

NODE_API_MODULE(kgwttm_cli, Init)
