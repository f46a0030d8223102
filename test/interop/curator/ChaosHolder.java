// A Curator contender for the cross-client chaos test (test/interop/curator-kazoo-chaos.test.ts).
// Usage: java ChaosHolder <connectString> <mutex|sem> <path> <durationMs> <sessionTimeoutMs> [maxLeases]
// Prints READY once connected, waits for a line on stdin, then for durationMs keeps acquiring
// (InterProcessMutex, or one lease of InterProcessSemaphoreV2) with a short timeout and, while
// connected, holds for a few ms. Each hold is printed as "HOLD <start ms> <end ms>" (wall clock):
// start after the acquire returned, end before the release, and a hold ends early when Curator
// reports the connection SUSPENDED or LOST (the session may then expire and the lock go elsewhere).
// Ends with "DONE <holds> <errors>".
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryForever;

public class ChaosHolder {
  public static void main(String[] args) throws Exception {
    String mode = args[1];
    String path = args[2];
    long duration = Long.parseLong(args[3]);
    int sessionMs = Integer.parseInt(args[4]);
    int maxLeases = args.length > 5 ? Integer.parseInt(args[5]) : 1;
    CuratorFramework client = CuratorFrameworkFactory.builder()
        .connectString(args[0])
        .sessionTimeoutMs(sessionMs)
        .connectionTimeoutMs(sessionMs)
        .retryPolicy(new RetryForever(20))
        .build();
    AtomicBoolean connected = new AtomicBoolean(false);
    client.getConnectionStateListenable().addListener((c, s) -> connected.set(s == ConnectionState.CONNECTED || s == ConnectionState.RECONNECTED));
    client.start();
    if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) {
      System.out.println("FAILED connect");
      System.exit(2);
    }
    connected.set(true);
    System.out.println("READY");
    System.out.flush();
    new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();

    InterProcessMutex mutex = mode.equals("mutex") ? new InterProcessMutex(client, path) : null;
    InterProcessSemaphoreV2 sem = mode.equals("sem") ? new InterProcessSemaphoreV2(client, path, maxLeases) : null;
    long until = System.currentTimeMillis() + duration;
    int holds = 0;
    int errors = 0;
    while (System.currentTimeMillis() < until) {
      Lease lease = null;
      boolean got;
      try {
        if (mutex != null) got = mutex.acquire(500, TimeUnit.MILLISECONDS);
        else {
          lease = sem.acquire(500, TimeUnit.MILLISECONDS);
          got = lease != null;
        }
      } catch (Exception e) {
        errors++;
        Thread.sleep(20);
        continue;
      }
      if (!got) continue;
      if (connected.get()) {
        long start = System.currentTimeMillis();
        for (int i = 0; i < 5 && connected.get(); i++) Thread.sleep(3);
        long end = System.currentTimeMillis();
        holds++;
        System.out.println("HOLD " + start + " " + end);
        System.out.flush();
      }
      try {
        if (mutex != null) mutex.release();
        else sem.returnLease(lease);
      } catch (Exception e) {
        errors++;
      }
    }
    System.out.println("DONE " + holds + " " + errors);
    System.out.flush();
    client.close();
    System.exit(0);
  }
}
