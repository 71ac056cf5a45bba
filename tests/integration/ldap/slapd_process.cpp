// Runs slapd for the LDAP integration test; waits by polling connect() against a deadline, never sleeps.
#include "slapd_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

namespace b24sync::test {
namespace {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

// Starts argv with stdout/stderr appended to log_path; the child dies with the test process.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

int run(const std::vector<std::string>& argv, const std::string& log_path) {
  pid_t pid = spawn(argv, log_path);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// One connection attempt, bounded by `wait_ms`; true when something accepted it.
bool try_connect(int port, int wait_ms) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    ok = true;
  } else if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, wait_ms) == 1) {
      int err = 0;
      socklen_t len = sizeof err;
      ok = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("cannot find a free port");
  ::close(fd);
  return ntohs(addr.sin_port);
}

slapd_process::slapd_process(const slapd_config& c, const std::string& ldif) {
  std::string tmpl = (fs::temp_directory_path() / "b24sync-slapd-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  try {
    fs::create_directory(dir_ + "/db");
    bool tls = !c.tls_cert_file.empty();
    std::ofstream conf(dir_ + "/slapd.conf");
    conf << "include /etc/ldap/schema/core.schema\n"
            "include /etc/ldap/schema/cosine.schema\n"
            "include /etc/ldap/schema/nis.schema\n"
            "include /etc/ldap/schema/inetorgperson.schema\n"
         << "pidfile " << dir_ << "/slapd.pid\n"
         << "argsfile " << dir_ << "/slapd.args\n"
         << "modulepath /usr/lib/ldap\nmoduleload back_mdb\n";
    if (tls)
      conf << "TLSCACertificateFile " << c.tls_ca_file << "\nTLSCertificateFile " << c.tls_cert_file
           << "\nTLSCertificateKeyFile " << c.tls_key_file << "\n";
    conf << c.extra_conf << "\n"
         << "database mdb\nmaxsize 268435456\n"
         << "suffix \"" << c.suffix << "\"\nrootdn \"" << c.root_dn << "\"\nrootpw " << c.root_password
         << "\n"
         << "directory " << dir_ << "/db\n"
         << "access to attrs=userPassword by anonymous auth by * none\n"
            "access to * by * read\n";
    conf.close();
    std::ofstream(dir_ + "/data.ldif", std::ios::binary) << ldif;
    std::string log_path = dir_ + "/slapd.log";
    if (run({"/usr/sbin/slapadd", "-q", "-f", dir_ + "/slapd.conf", "-l", dir_ + "/data.ldif"}, log_path) !=
        0)
      throw std::runtime_error("slapadd failed:\n" + log());
    port_ = free_loopback_port();
    std::string urls = ldap_uri() + "/";
    if (tls) {
      tls_port_ = free_loopback_port();
      urls += " " + ldaps_uri() + "/";
    }
    pid_ = spawn({"/usr/sbin/slapd", "-f", dir_ + "/slapd.conf", "-h", urls, "-d", "0"}, log_path);
    auto deadline = steady::now() + std::chrono::seconds(20);
    while (!try_connect(port_, 100) || (tls && !try_connect(tls_port_, 100))) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("slapd exited during startup:\n" + log());
      }
      if (steady::now() > deadline)
        throw std::runtime_error("slapd did not accept connections in 20 s:\n" + log());
      ::poll(nullptr, 0, 20);  // a refused connect returns at once: pace the retries
    }
  } catch (...) {
    stop();
    throw;
  }
}

std::string slapd_process::log() const {
  std::ifstream in(dir_ + "/slapd.log");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void slapd_process::stop() noexcept {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    auto deadline = steady::now() + std::chrono::seconds(10);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (steady::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      ::poll(nullptr, 0, 20);
    }
    pid_ = -1;
  }
  std::error_code ec;
  if (!dir_.empty() && !std::getenv("B24SYNC_KEEP_SLAPD_DIR")) fs::remove_all(dir_, ec);
}

slapd_process::~slapd_process() {
  stop();
}

}  // namespace b24sync::test
