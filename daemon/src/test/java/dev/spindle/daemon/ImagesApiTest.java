package dev.spindle.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.client.Api.ImageInfo;
import dev.spindle.client.Api.MakeImage;
import dev.spindle.client.ApiException;
import dev.spindle.client.SpindleClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Images over the API of a real daemon process: make (waiting or not), get, list, delete. */
class ImagesApiTest {
  @TempDir static Path tmp;
  static DaemonProcess node;
  static SpindleClient client;
  static Path source;

  /** A Git server that never answers, listed as the node's peer so images may be made from it. */
  static HangingGitServer git;

  @BeforeAll
  static void start() throws Exception {
    git = new HangingGitServer();
    node = DaemonProcess.start(tmp.resolve("home"), "--peer", git.url());
    client = node.client();
    source = Files.createDirectories(tmp.resolve("src/dir"));
    Files.writeString(source.resolve("a.txt"), "alpha\n");
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
    git.close();
  }

  @Test
  void makeWaitingAnswersTheReadyImageWithItsRoot() throws Exception {
    ImageInfo i = client.makeImage(new MakeImage(source.toString(), "waited"));
    assertThat(i.status()).isEqualTo("ready");
    assertThat(i.kind()).isEqualTo("image");
    assertThat(i.root()).matches("[0-9a-f]{40}");
    assertThat(i.sizeBytes()).isEqualTo(Files.size(tmp.resolve("home/images/waited.img")));
    assertThat(i.objects()).isEqualTo(3);
    assertThat(i.createdAt()).isNotNull();
    assertThat(client.image("waited")).isEqualTo(i);
    assertThat(client.images()).extracting(ImageInfo::tag).contains("waited");

    ApiException again =
        catchApi(() -> client.makeImage(new MakeImage(source.toString(), "waited")));
    assertThat(again.status()).isEqualTo(409);
    assertThat(again.code()).isEqualTo("tag_exists");
  }

  @Test
  void makeWithoutWaitingAnswers202WritingThenBecomesReady() throws Exception {
    RawHttp.Answer a =
        RawHttp.send(
            "POST",
            node.url + "/v1/images",
            node.token(),
            "{\"source\": \"" + source + "\", \"tag\": \"later\", \"wait\": false}");
    assertThat(a.status()).isEqualTo(202);
    assertThat(a.json().get("status").asText()).isEqualTo("writing");
    ImageInfo done = client.awaitImage("later", Duration.ofMinutes(1));
    assertThat(done.status()).isEqualTo("ready");
    assertThat(done.root())
        .isEqualTo(client.makeImage(new MakeImage(source.toString(), "same")).root());
  }

  @Test
  void aTagInFlightIs409AndCannotBeDeleted() throws Exception {
    {
      ImageInfo w = client.makeImage(new MakeImage(git.url(), "stuck", null, false));
      assertThat(w.status()).isEqualTo("writing");
      ApiException dup =
          catchApi(() -> client.makeImage(new MakeImage(source.toString(), "stuck")));
      assertThat(dup.status()).isEqualTo(409);
      assertThat(dup.code()).isEqualTo("tag_in_flight");
      ApiException del = catchApi(() -> client.deleteImage("stuck", false));
      assertThat(del.code()).isEqualTo("tag_in_flight");
      assertThat(client.metrics()).contains("spindle_images_writing 1");
    }
  }

  @Test
  void aFailedMakeSays422WhyAndLeavesAFailedRowThatFreesTheTag() throws Exception {
    ApiException e =
        catchApi(() -> client.makeImage(new MakeImage(tmp.resolve("absent").toString(), "broken")));
    assertThat(e.status()).isEqualTo(422);
    assertThat(e.code()).isEqualTo("make_failed");
    assertThat(e.getMessage()).contains("absent");
    ImageInfo f = client.image("broken");
    assertThat(f.status()).isEqualTo("failed");
    assertThat(f.error()).contains("absent");
    assertThat(client.makeImage(new MakeImage(source.toString(), "broken")).status())
        .isEqualTo("ready");
  }

  @Test
  void deleteRemovesTheFileAndTheRow() throws Exception {
    client.makeImage(new MakeImage(source.toString(), "gone"));
    assertThat(tmp.resolve("home/images/gone.img")).exists();
    client.deleteImage("gone", false);
    assertThat(tmp.resolve("home/images/gone.img")).doesNotExist();
    assertThat(catchApi(() -> client.image("gone")).status()).isEqualTo(404);
    assertThat(catchApi(() -> client.deleteImage("gone", false)).status()).isEqualTo(404);
  }

  static ApiException catchApi(Runnable r) {
    try {
      r.run();
    } catch (ApiException e) {
      return e;
    }
    throw new AssertionError("expected an ApiException");
  }
}
