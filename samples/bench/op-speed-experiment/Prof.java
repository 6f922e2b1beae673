import org.nd4j.autodiff.listeners.*;
import org.nd4j.autodiff.samediff.*;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import java.util.*;
public class Prof extends BaseListener {
  final Map<String, long[]> byType = new TreeMap<>(); final Map<String, Long> st = new HashMap<>();
  public boolean isActive(Operation o) { return true; }
  public void preOpExecution(SameDiff sd, At at, SameDiffOp op, OpContext c) { st.put(op.getName(), System.nanoTime()); }
  public void opExecution(SameDiff sd, At at, MultiDataSet b, SameDiffOp op, OpContext c, INDArray[] out) {
    Long t0 = st.remove(op.getName()); if (t0 == null) return;
    long[] a = byType.computeIfAbsent(op.getOp().opName(), k -> new long[2]); a[0]++; a[1] += System.nanoTime() - t0; }
  public void print(String what, int reps) {
    System.out.println("profile " + what);
    byType.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1])).limit(25)
      .forEach(e -> System.out.printf("  %-24s %4d %9.3f ms%n", e.getKey(), e.getValue()[0] / reps, e.getValue()[1] / 1e6 / reps));
    byType.clear(); }
}
