// A cgroup path names its container: the patterns of docker, containerd, CRI-O, podman, LXC.
#include <catch2/catch.hpp>

#include <ebpfpub/context/cgroup.hpp>

using ebpfpub::container_info;
using ebpfpub::container_of;

namespace {
const std::string id = "3f4e5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7089";
}

TEST_CASE("docker containers under systemd and under cgroupfs") {
  CHECK(container_of("/system.slice/docker-" + id + ".scope") == container_info{"docker", id, ""});
  CHECK(container_of("/docker/" + id) == container_info{"docker", id, ""});
  CHECK(container_of("/docker/" + id + "/init.scope") == container_info{"docker", id, ""});
}

TEST_CASE("Kubernetes pods: the runtime's scope and the pod's uid") {
  const std::string uid = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
  std::string systemd_uid = uid;
  for (char& c : systemd_uid)
    if (c == '-') c = '_';
  CHECK(container_of("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + systemd_uid +
                     ".slice/cri-containerd-" + id + ".scope") == container_info{"containerd", id, uid});
  CHECK(container_of("/kubepods/besteffort/pod" + uid + "/" + id) == container_info{"containerd", id, uid});
  CHECK(container_of("/kubepods.slice/kubepods-pod" + systemd_uid + ".slice/crio-" + id + ".scope") ==
        container_info{"cri-o", id, uid});
}

TEST_CASE("podman's container, not its conmon monitor; LXC by name") {
  CHECK(container_of("/machine.slice/libpod-" + id + ".scope") == container_info{"podman", id, ""});
  CHECK(container_of("/machine.slice/libpod-conmon-" + id + ".scope") == std::nullopt);
  CHECK(container_of("/lxc.payload.web1") == container_info{"lxc", "web1", ""});
  CHECK(container_of("/lxc/web1") == container_info{"lxc", "web1", ""});
}

TEST_CASE("paths outside containers have none") {
  CHECK(container_of("/") == std::nullopt);
  CHECK(container_of("/user.slice/user-1000.slice/session-2.scope") == std::nullopt);
  CHECK(container_of("/system.slice/docker.service") == std::nullopt);
  CHECK(container_of("/system.slice/docker-" + id.substr(1) + ".scope") == std::nullopt);  // 63 digits
  CHECK(container_of("/system.slice/docker-" + std::string(64, 'G') + ".scope") == std::nullopt);
}
