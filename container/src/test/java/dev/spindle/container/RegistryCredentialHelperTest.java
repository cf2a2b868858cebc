package dev.spindle.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.image.ImageStore;
import dev.spindle.image.Progress;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.testing.TestRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Docker's credential helpers, for real: a {@code docker-credential-NAME} script on the PATH given
 * to the lookup answers {@code get} for the test registry's host (htpasswd auth), and what it
 * answers is what reaches the registry. A missing helper, one that holds nothing, and one with a
 * wrong password each give a clear error, nothing stored.
 */
class RegistryCredentialHelperTest {
  @TempDir static Path shared;
  static TestRegistry registry;
  static Path image;

  @TempDir Path tmp;

  @BeforeAll
  static void startRegistry() throws Exception {
    TestRegistry.assumeInstalled();
    registry = TestRegistry.start(shared.resolve("registry"));
    ImageStore a = new ImageStore(new SpindleHome(shared.resolve("a")));
    Path src = Files.createDirectories(shared.resolve("src"));
    Files.writeString(src.resolve("motd"), "hello helpers\n");
    a.make(src.toString(), Tag.of("app"), MakeOptions.defaults(), Progress.NONE);
    image = a.path(Tag.of("app"));
    RegistryImages.push(
        image,
        registry.ref("spindle/helped:v1"),
        new RegistryOptions(
            TestRegistry.USER + ":" + TestRegistry.PASSWORD,
            null,
            null,
            true,
            shared.resolve("staging")),
        Progress.NONE);
  }

  @AfterAll
  static void stopRegistry() throws InterruptedException {
    if (registry != null) {
      registry.close();
    }
  }

  /** A helper answering {@code password} for the registry's host, noting what it was asked. */
  private Path helper(String name, String password) throws Exception {
    Path bin = Files.createDirectories(tmp.resolve("bin"));
    Path script = bin.resolve("docker-credential-" + name);
    Files.writeString(
        script,
        "#!/bin/sh\n"
            + "[ \"$1\" = get ] || exit 2\n"
            + "read server\n"
            + "echo \"$server\" > "
            + tmp.resolve("asked")
            + "\n"
            + "if [ \"$server\" != '"
            + registry.host()
            + "' ]; then echo 'credentials not found in native keychain'; exit 1; fi\n"
            + "printf '{\"ServerURL\":\"%s\",\"Username\":\""
            + TestRegistry.USER
            + "\",\"Secret\":\""
            + password
            + "\"}' \"$server\"\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    return bin;
  }

  private Path config(String json) throws Exception {
    return Files.writeString(tmp.resolve("config.json"), json);
  }

  private ImageStore store() {
    return new ImageStore(new SpindleHome(tmp.resolve("b")));
  }

  @Test
  void aCredHelperForTheHostGivesTheCredentialsThatPull() throws Exception {
    Path bin = helper("fake", TestRegistry.PASSWORD);
    Path config =
        config(
            "{\"credHelpers\":{\""
                + registry.host()
                + "\":\"fake\"},"
                + "\"auths\":{\""
                + registry.host()
                + "\":{\"auth\":\"bm9ib2R5Ondyb25n\"}}}");
    RegistryCredentials c =
        RegistryCredentials.resolve(null, config, registry.host(), bin.toString());
    assertThat(c).isEqualTo(new RegistryCredentials(TestRegistry.USER, TestRegistry.PASSWORD));
    assertThat(Files.readString(tmp.resolve("asked")).strip()).isEqualTo(registry.host());

    ImageStore b = store();
    RegistryImages.pull(
        b,
        Tag.of("copy"),
        registry.ref("spindle/helped:v1"),
        new RegistryOptions(
            c.user() + ":" + c.password(), null, null, true, tmp.resolve("staging")),
        Progress.NONE);
    assertThat(Files.readAllBytes(b.path(Tag.of("copy")))).isEqualTo(Files.readAllBytes(image));
  }

  @Test
  void aCredsStoreIsAskedForAnyHost() throws Exception {
    Path bin = helper("store", TestRegistry.PASSWORD);
    Path config = config("{\"credsStore\":\"store\"}");
    assertThat(RegistryCredentials.resolve(null, config, registry.host(), bin.toString()))
        .isEqualTo(new RegistryCredentials(TestRegistry.USER, TestRegistry.PASSWORD));
    assertThat(RegistryCredentials.resolve(null, config, "other.example:5000", bin.toString()))
        .as("a store holding nothing for a host: anonymous")
        .isNull();
  }

  @Test
  void aMissingHelperIsAClearErrorNamingIt() throws Exception {
    Path config = config("{\"credHelpers\":{\"" + registry.host() + "\":\"nowhere\"}}");
    assertThatThrownBy(
            () -> RegistryCredentials.resolve(null, config, registry.host(), tmp.toString()))
        .hasMessageContaining("docker-credential-nowhere, which is not on PATH");
  }

  @Test
  void aWrongPasswordFromTheHelperIsRefusedAndNothingIsStored() throws Exception {
    Path bin = helper("fake", "not-the-password");
    Path config = config("{\"credHelpers\":{\"" + registry.host() + "\":\"fake\"}}");
    RegistryCredentials c =
        RegistryCredentials.resolve(null, config, registry.host(), bin.toString());
    ImageStore b = store();
    assertThatThrownBy(
            () ->
                RegistryImages.pull(
                    b,
                    Tag.of("copy"),
                    registry.ref("spindle/helped:v1"),
                    new RegistryOptions(
                        c.user() + ":" + c.password(), null, null, true, tmp.resolve("staging")),
                    Progress.NONE))
        .hasMessageContaining(
            "401 unauthorized: the registry refused the credentials for " + TestRegistry.USER);
    assertThat(b.exists(Tag.of("copy"))).isFalse();
  }
}
