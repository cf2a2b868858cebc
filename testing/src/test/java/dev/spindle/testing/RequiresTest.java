package dev.spindle.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/**
 * {@code @Requires} run by a real JUnit launcher on fixture classes: a missing tool skips, or fails
 * where the build requires it; tools that are here let the test run. "Missing" is made with {@code
 * spindle.absent}, so the outcome does not depend on this machine.
 */
class RequiresTest {
  static final List<String> RAN = new ArrayList<>();

  // The build's own settings (surefire passes spindle.require), put back after each test.
  private final String require = System.getProperty(Requirements.REQUIRE);
  private final String absent = System.getProperty(Requirements.ABSENT);

  @BeforeEach
  void clearProperties() {
    System.clearProperty(Requirements.REQUIRE);
    System.clearProperty(Requirements.ABSENT);
    RAN.clear();
  }

  @AfterEach
  void restoreProperties() {
    restore(Requirements.REQUIRE, require);
    restore(Requirements.ABSENT, absent);
  }

  private static void restore(String key, String value) {
    if (value == null) {
      System.clearProperty(key);
    } else {
      System.setProperty(key, value);
    }
  }

  @Requires(Tool.CLANG)
  static class ClassNeedsClang {
    @Test
    void body() {
      RAN.add("class");
    }
  }

  static class MethodNeedsSuite {
    @Test
    @Requires({Tool.FUSE, Tool.WASI_SUITE})
    void needsSuite() {
      RAN.add("needsSuite");
    }

    @Test
    void needsNothing() {
      RAN.add("needsNothing");
    }
  }

  private static TestExecutionSummary run(Class<?> fixture, Map<String, String> properties) {
    properties.forEach(System::setProperty);
    SummaryGeneratingListener listener = new SummaryGeneratingListener();
    LauncherFactory.create()
        .execute(
            LauncherDiscoveryRequestBuilder.request()
                .selectors(DiscoverySelectors.selectClass(fixture))
                .build(),
            listener);
    return listener.getSummary();
  }

  private static String failure(TestExecutionSummary s) {
    return s.getFailures().getFirst().getException().getMessage();
  }

  @Test
  void aMissingToolSkipsTheClassByDefault() {
    TestExecutionSummary s = run(ClassNeedsClang.class, Map.of(Requirements.ABSENT, "clang"));
    assertThat(s.getContainersSkippedCount()).as("skipped, so that reports count it").isEqualTo(1);
    assertThat(s.getTotalFailureCount()).isZero();
    assertThat(RAN).isEmpty();
  }

  @Test
  void aMissingToolFailsTheClassWhenTheBuildRequiresAll() {
    TestExecutionSummary s =
        run(
            ClassNeedsClang.class,
            Map.of(Requirements.ABSENT, "clang", Requirements.REQUIRE, "all"));
    assertThat(s.getContainersFailedCount()).isEqualTo(1);
    assertThat(failure(s))
        .startsWith("clang is missing")
        .contains("apt-get install -y $(cat sandbox/APT-PACKAGES)")
        .contains("-Dspindle.require=all");
    assertThat(RAN).isEmpty();
  }

  @Test
  void onlyTheListedToolsAreRequired() {
    assertThat(
            run(
                    ClassNeedsClang.class,
                    Map.of(Requirements.ABSENT, "clang", Requirements.REQUIRE, "fuse,runc"))
                .getContainersSkippedCount())
        .isEqualTo(1);
    assertThat(
            run(
                    ClassNeedsClang.class,
                    Map.of(Requirements.ABSENT, "clang", Requirements.REQUIRE, "runc, CLANG"))
                .getContainersFailedCount())
        .isEqualTo(1);
    assertThat(RAN).isEmpty();
  }

  @Requires({Tool.FUSE, Tool.CLANG})
  static class ClassNeedsFuseAndClang {
    @Test
    void body() {
      RAN.add("class");
    }
  }

  @Test
  void aRequiredMissingToolFailsEvenBesideOneThatMayBeSkipped() {
    TestExecutionSummary s =
        run(
            ClassNeedsFuseAndClang.class,
            Map.of(Requirements.ABSENT, "fuse,clang", Requirements.REQUIRE, "clang"));
    assertThat(s.getContainersFailedCount()).isEqualTo(1);
    assertThat(failure(s)).startsWith("clang is missing");
    assertThat(RAN).isEmpty();
  }

  @Test
  void onAMethodOnlyThatMethodIsSkippedOrFailed() {
    TestExecutionSummary skipped =
        run(MethodNeedsSuite.class, Map.of(Requirements.ABSENT, "wasi-suite"));
    assertThat(skipped.getTestsSkippedCount()).isEqualTo(1);
    assertThat(skipped.getTestsSucceededCount()).isEqualTo(1);
    assertThat(RAN).containsExactly("needsNothing");
    RAN.clear();
    TestExecutionSummary failed =
        run(
            MethodNeedsSuite.class,
            Map.of(Requirements.ABSENT, "wasi-suite", Requirements.REQUIRE, "all"));
    assertThat(failed.getTestsFailedCount()).isEqualTo(1);
    assertThat(failure(failed)).contains("../shared/wasi-testsuite").contains("git clone");
    assertThat(RAN).containsExactly("needsNothing");
  }

  @Test
  void whatTheCallerKnowsDecides() {
    Requirements.require(Tool.NPM_GUESTS, true, "");
    assertThatThrownBy(() -> Requirements.require(Tool.NPM_GUESTS, false, "npm install failed"))
        .isInstanceOf(TestAbortedException.class)
        .hasMessageContaining("(npm install failed)")
        .hasMessageContaining("scripts/npm-guests");
    System.setProperty(Requirements.REQUIRE, "npm_guests");
    assertThatThrownBy(() -> Requirements.require(Tool.NPM_GUESTS, false, "npm install failed"))
        .isInstanceOf(AssertionFailedError.class)
        .hasMessageContaining("(npm install failed)");
    System.setProperty(Requirements.ABSENT, "npm-guests");
    assertThatThrownBy(() -> Requirements.require(Tool.NPM_GUESTS, true, ""))
        .isInstanceOf(AssertionFailedError.class);
  }

  @Test
  void aMisspeltToolIsAnErrorNotNoRequirement() {
    System.setProperty(Requirements.REQUIRE, "fuse,clnag");
    assertThatThrownBy(() -> Requirements.require(Tool.FUSE, false, ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no tool 'clnag'")
        .hasMessageContaining("wasi_suite");
  }
}
