package dev.spindle.image.make;

import dev.spindle.image.Progress;
import org.eclipse.jgit.lib.ProgressMonitor;

/** Shows JGit's packing phases through Spindle's {@link Progress}. */
final class JGitProgress implements ProgressMonitor {
  private final Progress progress;

  JGitProgress(Progress progress) {
    this.progress = progress;
  }

  @Override
  public void start(int totalTasks) {}

  @Override
  public void beginTask(String title, int totalWork) {
    progress.begin(title, Math.max(totalWork, 0));
  }

  @Override
  public void update(int completed) {
    progress.advance(completed);
  }

  @Override
  public void endTask() {
    progress.end();
  }

  @Override
  public boolean isCancelled() {
    return Thread.currentThread().isInterrupted();
  }

  @Override
  public void showDuration(boolean enabled) {}
}
