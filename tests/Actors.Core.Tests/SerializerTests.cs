using System.Collections.Immutable;
using System.Text;
using Actors.Protocol;
using Actors.Serialization;
using Akka.Actor;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueEvents;
using static Actors.Protocol.QueueQueries;
using static Actors.Protocol.WorkerProtocol;

namespace Actors.Core.Tests;

public class SerializerTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly DateTime At = new(2026, 11, 23, 12, 0, 0, DateTimeKind.Utc);
    private static readonly ImmutableDictionary<string, string> Headers = ImmutableDictionary<string, string>.Empty.Add("trace", "abc").Add("tenant", "t1");
    private static readonly ErrorInfo Error = new("System.TimeoutException", "took too long", "at X.Y()", "/user/queues/q/workers/$a", At);

    public SerializerTests() : base(DurableQueues.SerializationConfig()) { }

    private object RoundTrip(object message)
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        Assert.IsType<QueueMessageSerializer>(serializer);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        var bytes = serializer.ToBinary(message);
        return Sys.Serialization.Deserialize(bytes, serializer.Identifier, manifest);
    }

    [Fact]
    public void Enqueued_batches_round_trip_in_the_binary_format()
    {
        var original = new MessagesEnqueued([
            new EnqueuedMessage(1, "send_email", Encoding.UTF8.GetBytes("{\"to\":\"a@b.c\"}"), Headers, At),
            new EnqueuedMessage(long.MaxValue, "empty", ReadOnlyMemory<byte>.Empty, ImmutableDictionary<string, string>.Empty, At.AddTicks(1)),
        ]);
        var copy = Assert.IsType<MessagesEnqueued>(RoundTrip(original));
        Assert.Equal(original.Messages.Length, copy.Messages.Length);
        for (var i = 0; i < original.Messages.Length; i++)
        {
            var (a, b) = (original.Messages[i], copy.Messages[i]);
            Assert.Equal((a.Id, a.Type, a.EnqueuedAt), (b.Id, b.Type, b.EnqueuedAt));
            Assert.Equal(DateTimeKind.Utc, b.EnqueuedAt.Kind);
            Assert.Equal(a.Payload.ToArray(), b.Payload.ToArray());
            Assert.Equal(a.Headers.OrderBy(p => p.Key), b.Headers.OrderBy(p => p.Key));
        }
    }

    [Fact]
    public void Enqueued_batches_keep_due_times_expiries_and_idempotency_keys()
    {
        var original = new MessagesEnqueued([
            new EnqueuedMessage(1, "t", new byte[] { 1 }, Headers, At, DueAt: At.AddHours(1), ExpiresAt: At.AddHours(2), IdempotencyKey: "order-17", Fingerprint: ulong.MaxValue - 3),
            new EnqueuedMessage(2, "t", new byte[] { 2 }, Headers, At, ExpiresAt: At.AddMinutes(1)),
            new EnqueuedMessage(3, "t", new byte[] { 3 }, Headers, At),
        ]);
        var copy = Assert.IsType<MessagesEnqueued>(RoundTrip(original));
        Assert.Equal(original.Messages.Select(m => (m.Id, m.DueAt, m.ExpiresAt, m.IdempotencyKey, m.Fingerprint)),
            copy.Messages.Select(m => (m.Id, m.DueAt, m.ExpiresAt, m.IdempotencyKey, m.Fingerprint)));
        Assert.Equal(DateTimeKind.Utc, copy.Messages[0].DueAt!.Value.Kind);
    }

    [Fact]
    public void An_enqueued_batch_in_the_first_format_still_decodes()
    {
        // Format E1, written by earlier versions: no flags byte after each message.
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            w.Write((byte)1);
            w.Write7BitEncodedInt(1);
            w.Write7BitEncodedInt64(5);
            w.Write("t");
            w.Write(At.Ticks);
            w.Write7BitEncodedInt(0);
            w.Write7BitEncodedInt(2);
            w.Write(new byte[] { 7, 8 });
        }
        var serializer = (QueueMessageSerializer)Sys.Serialization.FindSerializerForType(typeof(MessagesEnqueued));
        var copy = Assert.IsType<MessagesEnqueued>(serializer.FromBinary(stream.ToArray(), "E1"));
        var m = Assert.Single(copy.Messages);
        Assert.Equal((5L, "t", At, (DateTime?)null, (string?)null), (m.Id, m.Type, m.EnqueuedAt, m.DueAt, m.IdempotencyKey));
        Assert.Equal(new byte[] { 7, 8 }, m.Payload.ToArray());
    }

    [Fact]
    public void Snapshots_keep_expiries_finished_statuses_totals_and_idempotency_keys()
    {
        var original = new QueueSnapshot(42, new QueueTotals(10, 5, 3, 1, 1, Expired: 2, Cancelled: 4),
            [new SnapshotMessage(7, "t", new byte[] { 9 }, Headers, At, 0, ImmutableList<ErrorInfo>.Empty, SnapshotStage.Scheduled, At.AddDays(1), null, null, 0, At.AddDays(2))],
            [new SnapshotSucceeded(3, "t", 0, At, At, null, MessageStatus.Cancelled)],
            [new IdempotencyRecord("order-17", 3, 12345678901234567890UL, At)]);
        var copy = Assert.IsType<QueueSnapshot>(RoundTrip(original));
        Assert.Equal(original.Totals, copy.Totals);
        Assert.Equal((At.AddDays(1), (DateTime?)At.AddDays(2)), (copy.Messages[0].DueAt, copy.Messages[0].ExpiresAt));
        Assert.Equal(MessageStatus.Cancelled, copy.Succeeded[0].Status);
        Assert.Equal(original.IdempotencyKeys.ToArray(), copy.IdempotencyKeys.ToArray());
    }

    [Fact]
    public void Ack_batches_round_trip_with_and_without_results()
    {
        var original = new MessagesAcked([new AckedMessage(5, 2, new byte[] { 1, 2, 3 }, At), new AckedMessage(6, 1, null, At)]);
        var copy = Assert.IsType<MessagesAcked>(RoundTrip(original));
        Assert.Equal(new byte[] { 1, 2, 3 }, copy.Acks[0].Result!.Value.ToArray());
        Assert.Null(copy.Acks[1].Result);
        Assert.Equal((6L, 1, At), (copy.Acks[1].Id, copy.Acks[1].Attempt, copy.Acks[1].CompletedAt));
    }

    [Fact]
    public void Snapshots_round_trip_every_stage()
    {
        var original = new QueueSnapshot(42, new QueueTotals(10, 5, 3, 1, 1),
        [
            new SnapshotMessage(7, "t", new byte[] { 9 }, Headers, At, 0, ImmutableList<ErrorInfo>.Empty, SnapshotStage.Ready, default, null, null),
            new SnapshotMessage(8, "t", new byte[] { 8 }, Headers, At, 2, [Error, Error with { StackTrace = null }], SnapshotStage.Scheduled, At.AddMinutes(1), null, null),
            new SnapshotMessage(9, "t", ReadOnlyMemory<byte>.Empty, ImmutableDictionary<string, string>.Empty, At, 5, [Error], SnapshotStage.DeadLettered, default, "Gave up", At),
        ],
        [new SnapshotSucceeded(3, "t", 1, At, At.AddSeconds(1), new byte[] { 7 }), new SnapshotSucceeded(4, "t", 2, At, At, null)]);

        var copy = Assert.IsType<QueueSnapshot>(RoundTrip(original));
        Assert.Equal((original.LastId, original.Totals), (copy.LastId, copy.Totals));
        Assert.Equal(original.Messages.Select(m => (m.Id, m.Stage, m.FailedAttempts, m.DueAt, m.DeadLetterReason, m.FinishedAt, m.Errors.Count)),
            copy.Messages.Select(m => (m.Id, m.Stage, m.FailedAttempts, m.DueAt, m.DeadLetterReason, m.FinishedAt, m.Errors.Count)));
        Assert.Equal(original.Messages[1].Errors, copy.Messages[1].Errors);
        Assert.Equal(original.Messages.Select(m => m.Payload.ToArray()), copy.Messages.Select(m => m.Payload.ToArray()));
        Assert.Equal(original.Succeeded.Select(s => (s.Id, s.Attempts, s.CompletedAt, s.Result?.ToArray().Length)),
            copy.Succeeded.Select(s => (s.Id, s.Attempts, s.CompletedAt, s.Result?.ToArray().Length)));
    }

    [Fact]
    public void A_snapshot_stores_the_sequence_number_instead_of_a_payload_the_journal_holds()
    {
        var original = new QueueSnapshot(2, QueueTotals.Zero,
        [
            new SnapshotMessage(1, "t", ReadOnlyMemory<byte>.Empty, Headers, At, 0, ImmutableList<ErrorInfo>.Empty, SnapshotStage.Ready, default, null, null, SequenceNr: 17),
            new SnapshotMessage(2, "t", new byte[] { 5, 6 }, Headers, At, 1, [Error], SnapshotStage.DeadLettered, default, "Gave up", At),
        ], []);

        var copy = Assert.IsType<QueueSnapshot>(RoundTrip(original));

        Assert.Equal([(17L, 0), (0L, 2)], copy.Messages.Select(m => (m.SequenceNr, m.Payload.Length)));
        Assert.Equal(new byte[] { 5, 6 }, copy.Messages[1].Payload.ToArray());
    }

    [Fact]
    public void A_snapshot_stores_archive_sequence_numbers_and_payload_lengths_instead_of_archived_bytes()
    {
        var original = new QueueSnapshot(4, QueueTotals.Zero,
        [
            new SnapshotMessage(1, "t", ReadOnlyMemory<byte>.Empty, Headers, At, 0, ImmutableList<ErrorInfo>.Empty, SnapshotStage.Ready, default, null, null, SequenceNr: 17, PayloadLength: 300),
            new SnapshotMessage(2, "t", ReadOnlyMemory<byte>.Empty, Headers, At, 1, [Error], SnapshotStage.DeadLettered, default, "Gave up", At, ArchiveSeq: 5, PayloadLength: 1000),
            new SnapshotMessage(3, "t", new byte[] { 5, 6 }, Headers, At, 1, [Error], SnapshotStage.DeadLettered, default, "Gave up", At, PayloadLength: 2),
        ],
        [new SnapshotSucceeded(7, "t", 1, At, At, null, ArchiveSeq: 6), new SnapshotSucceeded(8, "t", 1, At, At, new byte[] { 1, 2, 3 })]);

        var copy = Assert.IsType<QueueSnapshot>(RoundTrip(original));

        Assert.Equal("S6", Akka.Serialization.Serialization.ManifestFor(Sys.Serialization.FindSerializerFor(original), original));
        Assert.Equal(new[] { (17L, 0L, 300, 0), (0L, 5L, 1000, 0), (0L, 0L, 2, 2) },
            copy.Messages.Select(m => (m.SequenceNr, m.ArchiveSeq, m.PayloadLength, m.Payload.Length)));
        Assert.Equal(new[] { (6L, (int?)null), (0L, 3) }, copy.Succeeded.Select(f => (f.ArchiveSeq, f.Result?.Length)));
    }

    [Fact]
    public void Archived_payloads_round_trip_in_the_binary_format()
    {
        var original = new PayloadsArchived([new ArchivedPayload(3, false, new byte[] { 1, 2 }), new ArchivedPayload(4, true, ReadOnlyMemory<byte>.Empty)]);

        var copy = Assert.IsType<PayloadsArchived>(RoundTrip(original));

        Assert.Equal("AR1", Akka.Serialization.Serialization.ManifestFor(Sys.Serialization.FindSerializerFor(original), original));
        Assert.Equal(new[] { (3L, false, "1,2"), (4L, true, "") }, copy.Items.Select(i => (i.Id, i.IsResult, string.Join(",", i.Bytes.ToArray()))));
    }

    [Fact]
    public void A_snapshot_in_the_first_format_still_decodes_with_its_payloads()
    {
        // Format S1, written by earlier versions: version byte, then the snapshot with every payload inline.
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            w.Write((byte)1);
            foreach (var n in new long[] { 1, 1, 0, 0, 0, 0 }) w.Write7BitEncodedInt64(n); // last id, totals
            w.Write7BitEncodedInt(1);
            w.Write7BitEncodedInt64(1); w.Write("t"); w.Write(At.Ticks); w.Write7BitEncodedInt(0);  // id, type, time, headers
            w.Write7BitEncodedInt(3); w.Write(new byte[] { 1, 2, 3 });                             // payload
            w.Write7BitEncodedInt(0); w.Write7BitEncodedInt(0); w.Write((byte)0); w.Write(0L);    // attempts, errors, stage, due
            w.Write(false); w.Write(-1L);                                                          // reason, finished
            w.Write7BitEncodedInt(0);                                                              // succeeded
        }
        var serializer = new QueueMessageSerializer((ExtendedActorSystem)Sys);

        var copy = Assert.IsType<QueueSnapshot>(serializer.FromBinary(stream.ToArray(), "S1"));

        var message = Assert.Single(copy.Messages);
        Assert.Equal((1L, "t", 0L), (message.Id, message.Type, message.SequenceNr));
        Assert.Equal(new byte[] { 1, 2, 3 }, message.Payload.ToArray());
    }

    [Fact]
    public void Snapshots_keep_the_pause_and_finished_trace_parents()
    {
        var original = new QueueSnapshot(2, QueueTotals.Zero, [],
            [new SnapshotSucceeded(1, "t", 1, At, At, null, TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), new SnapshotSucceeded(2, "t", 1, At, At, null)])
        {
            Pause = new QueuePause(At, "ops", null),
        };

        var copy = Assert.IsType<QueueSnapshot>(RoundTrip(original));

        Assert.Equal(new QueuePause(At, "ops", null), copy.Pause);
        Assert.Equal(["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", null], copy.Succeeded.Select(s => s.TraceParent));
    }

    [Fact]
    public void A_snapshot_in_the_fifth_format_still_decodes_without_a_pause()
    {
        // Format S5, written by earlier versions: no trace parent after each finished message, no pause at the end.
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            w.Write((byte)1);
            foreach (var n in new long[] { 2, 2, 1, 0, 0, 0, 0, 0 }) w.Write7BitEncodedInt64(n);    // last id, totals
            w.Write7BitEncodedInt(1);
            w.Write7BitEncodedInt64(2); w.Write("t"); w.Write(At.Ticks); w.Write7BitEncodedInt(0);  // id, type, time, headers
            w.Write7BitEncodedInt64(17); w.Write7BitEncodedInt(3);                                 // sequence nr, payload length
            w.Write7BitEncodedInt(0); w.Write7BitEncodedInt(0); w.Write((byte)0); w.Write(0L);    // attempts, errors, stage, due
            w.Write(false); w.Write(-1L); w.Write(-1L);                                            // reason, finished, expires
            w.Write7BitEncodedInt(1);                                                              // finished messages
            w.Write7BitEncodedInt64(1); w.Write("t"); w.Write7BitEncodedInt(1); w.Write(At.Ticks); w.Write(At.Ticks);
            w.Write(false); w.Write((byte)MessageStatus.Succeeded); w.Write7BitEncodedInt64(0);   // result, status, archive
            w.Write7BitEncodedInt(0);                                                              // idempotency keys
            w.Write7BitEncodedInt(0); w.Write7BitEncodedInt(0);                                    // follow-ups
        }
        var serializer = new QueueMessageSerializer((ExtendedActorSystem)Sys);

        var copy = Assert.IsType<QueueSnapshot>(serializer.FromBinary(stream.ToArray(), "S5"));

        Assert.Null(copy.Pause);
        Assert.Equal((2L, 17L), (Assert.Single(copy.Messages).Id, copy.Messages[0].SequenceNr));
        var finished = Assert.Single(copy.Succeeded);
        Assert.Equal((1L, MessageStatus.Succeeded, (string?)null), (finished.Id, finished.Status, finished.TraceParent));
    }

    public static TheoryData<object> JsonMessages() => new()
    {
        new RetryScheduled(1, 2, Error, At),
        new DeadLettered(1, 5, Error, "Gave up after 5 attempt(s)."),
        new Discarded(1, 1, Error),
        new Enqueue("q", "t", new byte[] { 1, 2 }, Headers, 99),
        new EnqueueBatch("q", [new NewMessage("t", new byte[] { 3 }), new NewMessage("u", ReadOnlyMemory<byte>.Empty, Headers)], 4),
        new Accepted("q", 12, 99),
        new Rejected("q", RejectionCode.QueueFull, "full", 99),
        new BatchResult("q", [new EnqueueOutcome(1, null, null), new EnqueueOutcome(null, RejectionCode.PayloadTooLarge, "big")], 4),
        new Drained("q", 3),
        new Deliver("q", 1, 2, "t", new byte[] { 5 }, Headers, At, TimeSpan.FromMinutes(5)),
        new Deliver("q", 1, 1, "t", new byte[] { 5 }, Headers, At, TimeSpan.FromMinutes(5), Redelivered: true),
        new ConsumerProtocol.Attached("q", 12, 2),
        new ConsumerProtocol.Detached("q"),
        new Completed("q", 1, 2, new byte[] { 6 }, TimeSpan.FromMilliseconds(3)),
        new Failed("q", 1, 2, Error, RequestedFailureAction.RetryAfter, TimeSpan.FromSeconds(9), TimeSpan.FromMilliseconds(3)),
        new LeaseExpired("q", 1, 2),
        new CancelDelivery("q", 1, 2),
        new CancelMessage("q", 7, 3),
        new CancelResult("q", 7, CancelOutcome.Cancelled, MessageStatus.InFlight, 3),
        new MessageCancelled(7, At),
        new MessagesExpired([7, 8], At, true),
        new MessagesPurged([3, 4, 9], At),
        new QueueLifecycle.Purge("q"),
        new QueueLifecycle.Purged("q", 3),
        new QueueLifecycle.Delete("q", IfUnused: true, IfEmpty: false),
        new QueueLifecycle.Deleted("q", 7),
        new QueueLifecycle.DeleteRefused("q", QueueLifecycle.DeleteRefusalReason.InUse, "consumers attached"),
        new QueueLifecycle.RetirePartition("q#1"),
        new QueueLifecycle.PartitionRetired("q", 4),
        new QueueLifecycle.PartitionGone("q#1"),
        new ConsumerProtocol.ConsumerCancelled("q"),
        new QueueRegistryProtocol.RemoveDeclared("q"),
        new QueueRegistryProtocol.DeclaredQueueRemoved("q", true, 2),
        new QueueRegistryEvents.QueueRemoved("q", new DateTimeOffset(At)),
        new QueuePaused("ops", "deploy", At),
        new QueuePaused(null, null, At),
        new QueueResumed("ops", At),
        new PauseCommands.Pause("q", "deploy", "ops"),
        new PauseCommands.Resume("q", "ops"),
        new PauseCommands.PauseState("q", new QueuePause(At, "ops", "deploy")),
        new PauseCommands.PauseState("q", null),
        new FindByIdempotencyKey("q", "order-17"),
        new IdempotencyKeyFound("q", "order-17", 12, At, new MessageInfo("q", 12, "t", MessageStatus.Queued, 0, At, null, null, [], null, new byte[] { 1 }, Headers)),
        new IdempotencyKeyNotFound("q", "order-17"),
        new Enqueue("q", "t", new byte[] { 1 }, null, 5, "order-17", new MessageTiming(DeliverAt: At, Ttl: TimeSpan.FromMinutes(5))),
        new EnqueueBatch("q", [new NewMessage("t", new byte[] { 3 }, null, "k", MessageTiming.After(TimeSpan.FromSeconds(30)))], 4),
        new Accepted("q", 12, 99, Replayed: true),
        new GetMessage("q", 1),
        new MessageNotFound("q", 1),
        new OutcomeWaits.WaitForOutcome("q", 7, TimeSpan.FromSeconds(30), 5),
        new OutcomeWaits.StopWaiting("q", 7, 5),
        new Rejected("q", RejectionCode.TooManyWaiters, "too many waiters", 5),
        new GetStats("q"),
        new QueueNames(["a", "b"]),
        new QueueUnavailable("q", "restarting"),
        new QueueNotFound("q"),
        new WakeUp("q"),
        new GetPlacement("q"),
        new DeadLetterCommands.RedriveDeadLetters("q", DeadLetterCommands.DeadLetterFilter.All, "0123456789ab", "ops"),
        new DeadLetterCommands.DeadLettersRedriven("q", 3),
        new DeadLetterCommands.DeadLettersRedriven("q", 0, [new RedriveJobs.RedriveJobStatus("0123456789ab", 1, 2_000, 600, At, "ops")]),
        new RedriveJobs.ListRedriveJobs("q"),
        new RedriveJobs.RedriveJobList("q", [new RedriveJobs.RedriveJobStatus("0123456789ab", 0, 2_000, 600, At, null)]),
        new RedriveJobs.CancelRedriveJob("q", "0123456789ab", "ops"),
        new RedriveJobs.RedriveJobCancelResult("q", "0123456789ab", true, new RedriveJobs.RedriveJobStatus("0123456789ab", 0, 2_000, 600, At, null)),
        new RedriveJobs.RedriveJobStarted("0123456789ab", [3, 5, 8], At, "ops"),
        new RedriveJobs.RedriveChunkDone("0123456789ab", 2),
        new RedriveJobs.RedriveJobFinished("0123456789ab", At),
        new RedriveJobs.RedriveJobCancelled("0123456789ab", At, "ops"),
        new RedriveJobs.RedriveJobsSnapshot([new RedriveJobs.RedriveJobRecord("0123456789ab", [3, 5, 8], 1, At, null)]),
        new QueuePlacement("q", "akka.tcp://actors@10.0.0.1:4053", ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
            [KeyValuePair.Create("akka.tcp://actors@10.0.0.1:4053", 8), KeyValuePair.Create("akka.tcp://actors@10.0.0.2:4053", 8)])),
    };

    [Theory]
    [MemberData(nameof(JsonMessages))]
    public void Commands_replies_and_rare_events_round_trip_as_json(object message)
    {
        var copy = RoundTrip(message);
        Assert.Equal(message.GetType(), copy.GetType());
        // Records compare by value, except for byte payloads (compared by reference); compare their JSON instead.
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(message, message.GetType()), System.Text.Json.JsonSerializer.Serialize(copy, copy.GetType()));
    }

    [Fact]
    public void Consumer_attachments_round_trip_with_the_consumer_resolved_to_the_same_actor()
    {
        var consumer = CreateTestProbe().Ref;
        var attach = Assert.IsType<ConsumerProtocol.Attach>(RoundTrip(new ConsumerProtocol.Attach("q", consumer, 7)));
        Assert.Equal(("q", 7), (attach.QueueId, attach.Prefetch));
        Assert.Equal(consumer, attach.Consumer);
        var detach = Assert.IsType<ConsumerProtocol.Detach>(RoundTrip(new ConsumerProtocol.Detach("q", consumer)));
        Assert.Equal("q", detach.QueueId);
        Assert.Equal(consumer, detach.Consumer);
    }

    [Fact]
    public void Singletons_and_stats_round_trip()
    {
        Assert.Same(Drain.Instance, RoundTrip(Drain.Instance));
        Assert.Same(ListQueues.Instance, RoundTrip(ListQueues.Instance));
        var stats = new QueueStats("q", 1, 2, 3, 4, 5, 6, 7, 8, 9, 1.5, 2.5, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20), 0.1, 0.2, 8, 0.5, 2, TimeSpan.FromSeconds(1), true);
        Assert.Equal(stats, RoundTrip(stats));
        var withJobs = stats with { RedriveJobs = [new RedriveJobs.RedriveJobStatus("0123456789ab", 0, 10, 4, At, "ops")] };
        Assert.Equal(withJobs.RedriveJobs, Assert.IsType<QueueStats>(RoundTrip(withJobs)).RedriveJobs!.Value);
        var withLimits = stats with { Limits = new DispatchLimitStats(10, TimeSpan.FromSeconds(1), 5, 3, 7, 8) };
        Assert.Equal(withLimits, RoundTrip(withLimits));
        var withAutoscale = stats with { Autoscale = new AutoscaleStats(5, 6, 16, 1, 6, 201.5, TimeSpan.FromMilliseconds(21), 40, 0.8, At) };
        Assert.Equal(withAutoscale, RoundTrip(withAutoscale));
        var paused = stats with { Pause = new QueuePause(At, "ops", "deploy") };
        Assert.Equal(paused, RoundTrip(paused));
        var info = new MessageInfo("q", 1, "t", MessageStatus.DeadLettered, 5, At, null, At, [Error], null, new byte[] { 1 }, Headers);
        var copy = Assert.IsType<MessageInfo>(RoundTrip(info));
        Assert.Equal((info.Status, info.Attempts, info.Errors.Single()), (copy.Status, copy.Attempts, copy.Errors.Single()));
    }

    [Fact]
    public void An_unknown_manifest_is_a_clear_error()
    {
        var serializer = (QueueMessageSerializer)Sys.Serialization.FindSerializerForType(typeof(IQueueMessage));
        var error = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([], "nope"));
        Assert.Contains("nope", error.Message, StringComparison.Ordinal);
    }
    [Fact]
    public void Queue_registry_events_and_messages_round_trip_with_their_options()
    {
        var options = new Configuration.QueueOptions { Workers = 0, MaxLength = 123, Partitions = 2, MessageTtl = TimeSpan.FromMinutes(5), AllowedTypes = ["a", "b:c"] };
        options.Retry.MaxAttempts = 9;
        options.Retry.Rules.Add(new Configuration.RetryRule { ExceptionType = "System.TimeoutException", Action = Configuration.FailureAction.DeadLetter });

        var added = Assert.IsType<QueueRegistryEvents.QueueAdded>(RoundTrip(new QueueRegistryEvents.QueueAdded("q1", options, new DateTimeOffset(At))));
        Assert.Equal(("q1", new DateTimeOffset(At)), (added.Name, added.DeclaredAt));
        Assert.Equivalent(options, added.Options, strict: true);

        var all = Assert.IsType<QueueRegistryProtocol.Declarations>(RoundTrip(new QueueRegistryProtocol.Declarations(3,
            ImmutableDictionary<string, Configuration.QueueOptions>.Empty.Add("q1", options))));
        Assert.Equal(3, all.Version);
        Assert.Equivalent(options, all.Queues["q1"], strict: true);

        Assert.Equal(new QueueRegistryProtocol.FindDeclared("q1"), RoundTrip(new QueueRegistryProtocol.FindDeclared("q1")));
        Assert.Equal(new QueueRegistryProtocol.SubscribeDeclarations(-1), RoundTrip(new QueueRegistryProtocol.SubscribeDeclarations(-1)));
        Assert.Null(Assert.IsType<QueueRegistryProtocol.DeclaredQueueFound>(RoundTrip(new QueueRegistryProtocol.DeclaredQueueFound("q1", null))).Options);
        Assert.Null(Assert.IsType<QueueRegistryProtocol.Declare>(RoundTrip(new QueueRegistryProtocol.Declare("q1", null))).Options);
        var declared = Assert.IsType<QueueDeclaration>(RoundTrip(new QueueDeclaration("q1", true, options)));
        Assert.True(declared.Created);
        Assert.Equivalent(options, declared.Options, strict: true);
    }
}
