// openTun(name): a TUN device for `kgwttm doctor`'s round trip, which plays a
// load balancer by writing raw IPv4 packets into it (lib/cli/roundtrip-child.ts).
//
// Node has no way to make the TUNSETIFF ioctl, so this is the one thing done
// natively; everything else (addresses, routes, packets) is done in lib/. The
// fd is non-blocking and close-on-exec. Non-blocking because Node cannot wait
// on it: net.Socket refuses a character device, and an fs.read pending on a
// blocking fd keeps a thread-pool thread in read(2) that process exit then
// waits for forever; lib/ polls it with fs.readSync instead. The device lives
// as long as the fd, and the doctor only ever opens it inside a throwaway
// network namespace. A failing syscall throws an
// Error carrying `errno` (negative, as in Node's system errors) and `syscall`;
// lib/ names the errno, as it does for getPeer.

#include <napi.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <string>

namespace {

const char kTunPath[] = "/dev/net/tun";

Napi::Value ThrowErrno(Napi::Env env, int err, const char* syscall) {
  Napi::Error error = Napi::Error::New(
      env, std::string(syscall) + " " + kTunPath + ": " + strerror(err));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  error.Set("path", Napi::String::New(env, kTunPath));
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value OpenTun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "openTun(name) takes an interface name")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name.empty() || name.size() >= IFNAMSIZ) {
    Napi::TypeError::New(env, "openTun(name): the name must be 1 to 15 bytes")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }

  int fd = open(kTunPath, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return ThrowErrno(env, errno, "open");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  memcpy(ifr.ifr_name, name.data(), name.size());
  // Bare IP packets: no packet-information header in front of each one.
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, err, "ioctl");
  }
  return Napi::Number::New(env, fd);
}

}  // namespace

// Called from the module's Init in kgwttm.cc.
void InitTun(Napi::Env env, Napi::Object exports) {
  exports.Set("openTun", Napi::Function::New(env, OpenTun, "openTun"));
}
