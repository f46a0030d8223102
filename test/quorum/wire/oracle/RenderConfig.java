// Test oracle: renders membership texts with Apache ZooKeeper's own QuorumMaj (from the Debian
// jars), so QuorumConfig.test can compare our renderer with Apache's on many ensembles.
// Input: blocks of key=value lines, each block ended by a line "--". Output per block: the
// rendered text or "ERROR: <message>", then a line holding a single NUL character.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.zookeeper.server.quorum.flexible.QuorumMaj;

public class RenderConfig {
  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    List<String> block = new ArrayList<>();
    StringBuilder out = new StringBuilder();
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      if (line.equals("--")) {
        out.append(render(block)).append("\n\u0000\n");
        block.clear();
      } else {
        block.add(line);
      }
    }
    System.out.print(out);
  }

  static String render(List<String> lines) {
    try {
      Properties props = new Properties();
      for (String l : lines) {
        int eq = l.indexOf('=');
        props.setProperty(l.substring(0, eq), l.substring(eq + 1));
      }
      return new QuorumMaj(props).toString();
    } catch (Exception e) {
      return "ERROR: " + e.getMessage();
    }
  }
}
