// Drives Apache Curator 5.4 recipes for test/interop/curator.test.ts. It reads one command per line
// on stdin and answers each with one line "PROBE <json>" on stdout, so the test decides the order
// of steps between this process and our Node client. Every wait is bounded by a timeout the
// command carries. Usage: java CuratorProbe <connectString>
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;

import com.fasterxml.jackson.databind.ObjectMapper;

public class CuratorProbe {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final CuratorFramework client;
  private final Map<String, InterProcessMutex> mutexes = new HashMap<>();
  private final Map<String, LeaderLatch> latches = new HashMap<>();
  private final Map<String, ServiceDiscovery<Map>> discoveries = new HashMap<>();

  CuratorProbe(CuratorFramework client) {
    this.client = client;
  }

  public static void main(String[] args) throws Exception {
    CuratorFramework client = CuratorFrameworkFactory.builder()
        .connectString(args[0])
        .sessionTimeoutMs(10000)
        .connectionTimeoutMs(10000)
        .retryPolicy(new ExponentialBackoffRetry(100, 5))
        .build();
    client.start();
    Map<String, Object> hello = new HashMap<>();
    hello.put("cmd", "hello");
    hello.put("connected", client.blockUntilConnected(20, TimeUnit.SECONDS));
    emit(hello);
    CuratorProbe probe = new CuratorProbe(client);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      line = line.trim();
      if (line.isEmpty()) continue;
      String[] a = line.split(" ");
      Map<String, Object> out = new HashMap<>();
      out.put("cmd", a[0]);
      try {
        if (a[0].equals("quit")) {
          probe.closeAll();
          out.put("ok", true);
          emit(out);
          break;
        }
        probe.run(a, out);
        out.put("ok", true);
      } catch (Exception e) {
        out.put("ok", false);
        out.put("error", e.toString());
      }
      emit(out);
    }
    client.close();
  }

  private static void emit(Map<String, Object> m) throws Exception {
    System.out.println("PROBE " + JSON.writeValueAsString(m));
    System.out.flush();
  }

  private void closeAll() throws Exception {
    for (LeaderLatch l : latches.values()) l.close();
    for (ServiceDiscovery<Map> d : discoveries.values()) d.close();
    for (InterProcessMutex m : mutexes.values()) {
      while (m.isAcquiredInThisProcess()) m.release();
    }
  }

  private InterProcessMutex mutex(String path) {
    return mutexes.computeIfAbsent(path, p -> new InterProcessMutex(client, p));
  }

  private ServiceDiscovery<Map> discovery(String base) throws Exception {
    ServiceDiscovery<Map> d = discoveries.get(base);
    if (d == null) {
      d = ServiceDiscoveryBuilder.builder(Map.class)
          .client(client)
          .basePath(base)
          .serializer(new JsonInstanceSerializer<>(Map.class))
          .build();
      d.start();
      discoveries.put(base, d);
    }
    return d;
  }

  private static Map<String, Object> describe(ServiceInstance<Map> i) {
    Map<String, Object> m = new HashMap<>();
    m.put("name", i.getName());
    m.put("id", i.getId());
    m.put("address", i.getAddress());
    m.put("port", i.getPort());
    m.put("sslPort", i.getSslPort());
    m.put("payload", i.getPayload());
    m.put("registrationTimeUTC", i.getRegistrationTimeUTC());
    m.put("serviceType", i.getServiceType().name());
    m.put("enabled", i.isEnabled());
    return m;
  }

  private void run(String[] a, Map<String, Object> out) throws Exception {
    switch (a[0]) {
      case "mutex.acquire": { // path timeoutMs
        out.put("acquired", mutex(a[1]).acquire(Long.parseLong(a[2]), TimeUnit.MILLISECONDS));
        break;
      }
      case "mutex.release": {
        mutex(a[1]).release();
        break;
      }
      case "mutex.nodes": { // Curator's own view of the contenders, in its order
        out.put("nodes", mutex(a[1]).getParticipantNodes());
        break;
      }
      case "latch.start": { // path id
        LeaderLatch l = new LeaderLatch(client, a[1], a[2]);
        l.start();
        latches.put(a[1], l);
        break;
      }
      case "latch.await": { // path timeoutMs
        out.put("leader", latches.get(a[1]).await(Long.parseLong(a[2]), TimeUnit.MILLISECONDS));
        break;
      }
      case "latch.state": {
        LeaderLatch l = latches.get(a[1]);
        out.put("leader", l.hasLeadership());
        out.put("leaderId", l.getLeader().getId());
        break;
      }
      case "latch.close": {
        latches.remove(a[1]).close();
        break;
      }
      case "count.get": { // path
        SharedCount c = new SharedCount(client, a[1], 0);
        c.start();
        out.put("value", c.getCount());
        out.put("version", c.getVersionedValue().getVersion());
        c.close();
        break;
      }
      case "count.set": { // path value
        SharedCount c = new SharedCount(client, a[1], 0);
        c.start();
        c.setCount(Integer.parseInt(a[2]));
        out.put("value", c.getCount());
        c.close();
        break;
      }
      case "along.get": { // path
        AtomicValue<Long> v = new DistributedAtomicLong(client, a[1], new RetryNTimes(10, 10)).get();
        out.put("succeeded", v.succeeded());
        out.put("value", String.valueOf(v.postValue()));
        break;
      }
      case "along.add": { // path delta
        AtomicValue<Long> v = new DistributedAtomicLong(client, a[1], new RetryNTimes(10, 10)).add(Long.parseLong(a[2]));
        out.put("succeeded", v.succeeded());
        out.put("pre", String.valueOf(v.preValue()));
        out.put("post", String.valueOf(v.postValue()));
        break;
      }
      case "raw.get": { // path: the node's bytes, hex
        byte[] b = client.getData().forPath(a[1]);
        StringBuilder sb = new StringBuilder();
        for (byte x : b) sb.append(String.format("%02x", x));
        out.put("hex", sb.toString());
        break;
      }
      case "sd.register": { // base name id address port payloadKey payloadValue
        Map<String, Object> payload = new HashMap<>();
        payload.put(a[6], a[7]);
        ServiceInstance<Map> i = ServiceInstance.<Map>builder()
            .name(a[2]).id(a[3]).address(a[4]).port(Integer.parseInt(a[5])).payload(payload).build();
        discovery(a[1]).registerService(i);
        out.put("instance", describe(i));
        break;
      }
      case "sd.query": { // base name
        java.util.List<Map<String, Object>> list = new java.util.ArrayList<>();
        for (ServiceInstance<Map> i : discovery(a[1]).queryForInstances(a[2])) list.add(describe(i));
        out.put("instances", list);
        out.put("names", discovery(a[1]).queryForNames());
        break;
      }
      default:
        throw new IllegalArgumentException("unknown command " + a[0]);
    }
  }
}
