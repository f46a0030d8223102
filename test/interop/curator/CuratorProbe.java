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
import org.apache.curator.framework.recipes.queue.DistributedDelayQueue;
import org.apache.curator.framework.recipes.queue.DistributedPriorityQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.state.ConnectionState;
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
  /** A payload class of our own, as a Java service would have: Curator's JSON names it in "@class". */
  public static class InstanceDetails {
    public String zone;
    public int weight;
  }

  private static final QueueSerializer<String> UTF8 = new QueueSerializer<String>() {
    public byte[] serialize(String item) {
      return item.getBytes(StandardCharsets.UTF_8);
    }

    public String deserialize(byte[] bytes) {
      return new String(bytes, StandardCharsets.UTF_8);
    }
  };

  private static final ObjectMapper JSON = new ObjectMapper();
  /** Producer-only queues (no consumer) and consuming queues, by path. */
  private final Map<String, java.io.Closeable> queues = new HashMap<>();
  /** Items a consuming queue handed to its consumer, with the time it did, by path. */
  private final Map<String, java.util.concurrent.LinkedBlockingQueue<String[]>> consumed = new HashMap<>();
  private final Map<String, ServiceDiscovery<InstanceDetails>> detailDiscoveries = new HashMap<>();
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
    for (ServiceDiscovery<InstanceDetails> d : detailDiscoveries.values()) d.close();
    for (java.io.Closeable q : queues.values()) q.close();
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

  private ServiceDiscovery<InstanceDetails> detailDiscovery(String base) throws Exception {
    ServiceDiscovery<InstanceDetails> d = detailDiscoveries.get(base);
    if (d == null) {
      d = ServiceDiscoveryBuilder.builder(InstanceDetails.class)
          .client(client)
          .basePath(base)
          .serializer(new JsonInstanceSerializer<>(InstanceDetails.class))
          .build();
      d.start();
      detailDiscoveries.put(base, d);
    }
    return d;
  }

  /** Starts a Curator queue of `kind` (priority, delay) on `path`, consuming into `consumed` or producer-only. */
  private java.io.Closeable startQueue(String kind, String path, boolean consume) throws Exception {
    QueueConsumer<String> consumer = null;
    if (consume) {
      java.util.concurrent.LinkedBlockingQueue<String[]> sink = new java.util.concurrent.LinkedBlockingQueue<>();
      consumed.put(path, sink);
      consumer = new QueueConsumer<String>() {
        public void consumeMessage(String message) {
          sink.add(new String[] {message, String.valueOf(System.currentTimeMillis())});
        }

        public void stateChanged(CuratorFramework c, ConnectionState s) {}
      };
    }
    QueueBuilder<String> b = QueueBuilder.builder(client, consumer, UTF8, path).putInBackground(false);
    java.io.Closeable q;
    if (kind.equals("priority")) {
      DistributedPriorityQueue<String> pq = b.buildPriorityQueue(0);
      pq.start();
      q = pq;
    } else if (kind.equals("delay")) {
      DistributedDelayQueue<String> dq = b.buildDelayQueue();
      dq.start();
      q = dq;
    } else {
      throw new IllegalArgumentException("queue kind " + kind);
    }
    queues.put(path, q);
    return q;
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
      case "q.produce": { // kind path: a producer-only queue
        startQueue(a[1], a[2], false);
        break;
      }
      case "q.consume": { // kind path: a queue whose consumer collects items for q.take
        startQueue(a[1], a[2], true);
        break;
      }
      case "q.put": { // path key item (key: priority, or epoch ms for a delay queue)
        java.io.Closeable q = queues.get(a[1]);
        if (q instanceof DistributedPriorityQueue) ((DistributedPriorityQueue<String>) q).put(a[3], Integer.parseInt(a[2]));
        else ((DistributedDelayQueue<String>) q).put(a[3], Long.parseLong(a[2]));
        break;
      }
      case "q.take": { // path timeoutMs: next consumed item, or null
        String[] got = consumed.get(a[1]).poll(Long.parseLong(a[2]), TimeUnit.MILLISECONDS);
        out.put("item", got == null ? null : got[0]);
        out.put("at", got == null ? null : Long.valueOf(got[1]));
        break;
      }
      case "q.close": { // path
        queues.remove(a[1]).close();
        break;
      }
      case "sdd.register": { // base name id address port zone weight: payload of our InstanceDetails class
        InstanceDetails d = new InstanceDetails();
        d.zone = a[6];
        d.weight = Integer.parseInt(a[7]);
        ServiceInstance<InstanceDetails> i = ServiceInstance.<InstanceDetails>builder()
            .name(a[2]).id(a[3]).address(a[4]).port(Integer.parseInt(a[5])).payload(d).build();
        detailDiscovery(a[1]).registerService(i);
        break;
      }
      case "sdd.query": { // base name: instances whose payload Curator read as InstanceDetails
        java.util.List<Map<String, Object>> list = new java.util.ArrayList<>();
        for (ServiceInstance<InstanceDetails> i : detailDiscovery(a[1]).queryForInstances(a[2])) {
          Map<String, Object> m = new HashMap<>();
          m.put("id", i.getId());
          Object p = i.getPayload();
          m.put("payloadClass", p == null ? null : p.getClass().getName());
          if (p instanceof InstanceDetails) {
            m.put("zone", ((InstanceDetails) p).zone);
            m.put("weight", ((InstanceDetails) p).weight);
          }
          list.add(m);
        }
        out.put("instances", list);
        break;
      }
      default:
        throw new IllegalArgumentException("unknown command " + a[0]);
    }
  }
}
