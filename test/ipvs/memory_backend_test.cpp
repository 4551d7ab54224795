// MemoryBackend answers as the kernel does, and reports refusals with their batch index.
#include "lvsd/ipvs/memory_backend.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lvsd::ipvs {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
namespace errc = boost::system::errc;

model::Endpoint ep(std::string_view text) { return model::Endpoint::parse(text, true).value(); }
ServiceKey tcp(std::string_view text) {
  return ServiceKey{.family = model::Family::V4, .protocol = model::Protocol::Tcp, .endpoint = ep(text)};
}
Service svc(std::string_view text, std::string scheduler = "wlc") {
  return Service{.key = tcp(text), .scheduler = std::move(scheduler)};
}
Destination dest(std::string_view text, std::uint32_t weight = 1) {
  return Destination{.endpoint = ep(text), .weight = weight};
}
Failure failed(std::size_t index, errc::errc_t e) { return {index, errc::make_error_code(e)}; }

TEST(MemoryBackend, RefusalsCarryTheKernelsErrnoAndTheirIndex) {
  MemoryBackend kernel;
  const std::vector<Operation> ops{
      AddService{svc("192.0.2.10:80")},
      AddService{svc("192.0.2.10:80")},                                  // EEXIST
      EditService{svc("192.0.2.11:80")},                                 // ESRCH
      AddService{svc("192.0.2.12:80", "fastest")},                       // ENOENT: no such scheduler
      AddService{svc("192.0.2.13:0")},                                   // EINVAL: port 0 without persistence
      AddDestination{tcp("192.0.2.10:80"), dest("10.0.0.1:80")},
      AddDestination{tcp("192.0.2.10:80"), dest("10.0.0.1:80")},         // EEXIST
      AddDestination{tcp("192.0.2.99:80"), dest("10.0.0.1:80")},         // ESRCH
      EditDestination{tcp("192.0.2.10:80"), dest("10.0.0.2:80")},        // ENOENT
      DeleteDestination{tcp("192.0.2.10:80"), ep("10.0.0.2:80")},        // ENOENT
      DeleteService{tcp("192.0.2.99:80")},                               // ESRCH
  };
  EXPECT_THAT(kernel.apply(ops),
              ElementsAre(failed(1, errc::file_exists), failed(2, errc::no_such_process),
                          failed(3, errc::no_such_file_or_directory), failed(4, errc::invalid_argument),
                          failed(6, errc::file_exists), failed(7, errc::no_such_process),
                          failed(8, errc::no_such_file_or_directory),
                          failed(9, errc::no_such_file_or_directory), failed(10, errc::no_such_process)));
  EXPECT_EQ(kernel.table(), (Table{{svc("192.0.2.10:80"), {dest("10.0.0.1:80")}}}));
  EXPECT_EQ(kernel.operations_applied(), ops.size());
  EXPECT_EQ(kernel.apply_calls(), 1u);
}

TEST(MemoryBackend, LowerThresholdAboveUpperIsInvalid) {
  MemoryBackend kernel({{svc("192.0.2.10:80"), {}}});
  Destination d = dest("10.0.0.1:80");
  d.upper_threshold = 10;
  d.lower_threshold = 20;
  EXPECT_THAT(kernel.apply(std::vector<Operation>{AddDestination{tcp("192.0.2.10:80"), d}}),
              ElementsAre(failed(0, errc::invalid_argument)));
}

TEST(MemoryBackend, EditsKeepCountersAndDeletesRemove) {
  MemoryBackend kernel({{svc("192.0.2.10:80"), {dest("10.0.0.1:80"), dest("10.0.0.2:80")}}});
  auto& counters = const_cast<Table&>(kernel.table())[0].destinations[0];
  counters.active_conns = 5;
  EXPECT_THAT(kernel.apply(std::vector<Operation>{EditDestination{tcp("192.0.2.10:80"), dest("10.0.0.1:80", 9)},
                                                  DeleteDestination{tcp("192.0.2.10:80"), ep("10.0.0.2:80")},
                                                  EditService{svc("192.0.2.10:80", "rr")}}),
              IsEmpty());
  const auto t = kernel.dump().value();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].service.scheduler, "rr");
  ASSERT_EQ(t[0].destinations.size(), 1u);
  EXPECT_EQ(t[0].destinations[0].weight, 9u);
  EXPECT_EQ(t[0].destinations[0].active_conns, 5u);
}

TEST(MemoryBackend, StartsWithTheKernelsDefaultTimeoutsAndNoDaemon) {
  MemoryBackend kernel;
  EXPECT_EQ(kernel.dump_settings().value(), (Settings{Timeouts{900, 120, 300}, {}}));
}

TEST(MemoryBackend, ZeroTimeoutLeavesTheValue) {
  MemoryBackend kernel;
  EXPECT_THAT(kernel.apply(std::vector<Operation>{SetTimeouts{Timeouts{0, 60, 0}}}), IsEmpty());
  EXPECT_EQ(kernel.dump_settings().value().timeouts, (Timeouts{900, 60, 300}));
  EXPECT_THAT(kernel.apply(std::vector<Operation>{SetTimeouts{Timeouts{}}, SetTimeouts{Timeouts{3600, 0, 30}}}),
              IsEmpty());
  EXPECT_EQ(kernel.dump_settings().value().timeouts, (Timeouts{3600, 60, 30}));
}

SyncDaemon daemon(SyncState state, std::string interface, std::uint32_t sync_id = 0) {
  return SyncDaemon{.state = state, .interface = std::move(interface), .sync_id = sync_id};
}

TEST(MemoryBackend, DaemonRefusalsCarryTheKernelsErrnoAndTheirIndex) {
  MemoryBackend kernel;
  const std::vector<Operation> ops{
      StartDaemon{daemon(SyncState::Master, "eth1")},
      StartDaemon{daemon(SyncState::Master, "eth2")},                 // EEXIST: one master at most
      StartDaemon{daemon(SyncState::Backup, "eth1")},                 // a backup beside it is fine
      StopDaemon{SyncState::Backup},
      StopDaemon{SyncState::Backup},                                  // ESRCH: none running
      StartDaemon{daemon(SyncState::Backup, "")},                     // EINVAL: no interface
      StartDaemon{daemon(SyncState::Backup, "an-interface-x16")},     // EINVAL: 16 characters
      StartDaemon{daemon(SyncState::Backup, "an-interface-15")},      // 15 is the longest name
  };
  EXPECT_THAT(kernel.apply(ops), ElementsAre(failed(1, errc::file_exists), failed(4, errc::no_such_process),
                                             failed(5, errc::invalid_argument),
                                             failed(6, errc::invalid_argument)));
  const auto settings = kernel.dump_settings().value();
  ASSERT_EQ(settings.daemons.size(), 2u);
  EXPECT_EQ(settings.daemons[0].interface, "eth1");
  EXPECT_EQ(settings.daemons[0].state, SyncState::Master);
  EXPECT_EQ(settings.daemons[1].interface, "an-interface-15");
  EXPECT_EQ(settings.daemons[1].state, SyncState::Backup);
  EXPECT_EQ(kernel.operations_applied(), ops.size());
}

TEST(MemoryBackend, StoppedDaemonCanBeStartedAgain) {
  MemoryBackend kernel;
  EXPECT_THAT(kernel.apply(std::vector<Operation>{StartDaemon{daemon(SyncState::Master, "eth1")},
                                                  StopDaemon{SyncState::Master},
                                                  StartDaemon{daemon(SyncState::Master, "eth2", 4)}}),
              IsEmpty());
  ASSERT_EQ(kernel.settings().daemons.size(), 1u);
  EXPECT_EQ(kernel.settings().daemons[0].interface, "eth2");
  EXPECT_EQ(kernel.settings().daemons[0].sync_id, 4u);
}

TEST(MemoryBackend, StartedDaemonReportsTheKernelsDefaults) {
  MemoryBackend kernel;
  SyncDaemon chosen = daemon(SyncState::Backup, "eth2", 9);
  chosen.max_len = 1100;
  chosen.group = model::IpAddress::parse("239.1.2.3").value();
  chosen.port = 9000;
  chosen.ttl = 3;
  SyncDaemon v6 = daemon(SyncState::Master, "eth3");
  v6.group = model::IpAddress::parse("ff02::81").value();
  EXPECT_THAT(kernel.apply(std::vector<Operation>{StartDaemon{daemon(SyncState::Master, "eth1", 7)},
                                                  StartDaemon{chosen}}),
              IsEmpty());
  EXPECT_EQ(kernel.dump_settings().value(),
            (Settings{Timeouts{900, 120, 300},
                      {SyncDaemon{.state = SyncState::Master,
                                  .interface = "eth1",
                                  .sync_id = 7,
                                  .max_len = 1472,  // a 1500-byte MTU less the IPv4 and UDP headers
                                  .group = model::IpAddress::parse("224.0.0.81").value(),
                                  .port = 8848,
                                  .ttl = 1},
                       chosen}}));
  // An IPv6 group leaves room for the larger header.
  MemoryBackend kernel6;
  EXPECT_THAT(kernel6.apply(std::vector<Operation>{StartDaemon{v6}}), IsEmpty());
  ASSERT_EQ(kernel6.settings().daemons.size(), 1u);
  EXPECT_EQ(kernel6.settings().daemons[0].max_len, 1452);
  EXPECT_EQ(kernel6.settings().daemons[0].group, v6.group);
  EXPECT_EQ(kernel6.settings().daemons[0].port, 8848);
  EXPECT_EQ(kernel6.settings().daemons[0].ttl, 1);
}

}  // namespace
}  // namespace lvsd::ipvs
