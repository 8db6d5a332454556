namespace Actors.Configuration;

/// <summary>One queue's settings. Bind from configuration (<c>Actors:Queues:{name}</c>) or set in code.</summary>
public sealed class QueueOptions
{
    /// <summary>
    /// Workers in the queue's consumer pool; each runs one message at a time. With <see cref="Autoscale"/> set, the
    /// number of active workers the queue starts with (kept within its MinWorkers–MaxWorkers). 0 starts no pool: the
    /// queue delivers only to consumers attached from outside (see <see cref="Protocol.ConsumerProtocol"/>, e.g. AMQP
    /// consumers), and <see cref="Autoscale"/> is ignored. Default 8; range 0–1024.
    /// </summary>
    public int Workers { get; set; } = 8;

    /// <summary>
    /// Sizes the pool by its measured load (see <see cref="AutoscaleOptions"/>): the pool deploys MaxWorkers and the
    /// queue keeps as many active as Little's Law calls for. Default null: the pool keeps <see cref="Workers"/>.
    /// </summary>
    public AutoscaleOptions? Autoscale { get; set; }

    /// <summary>
    /// Deliveries a worker may hold at once (the one it runs plus those waiting at it), like AMQP prefetch.
    /// In-flight messages per queue are capped at <see cref="Workers"/> × Prefetch, plus what attached consumers may hold
    /// (each has a prefetch of its own, see <see cref="Protocol.ConsumerProtocol"/>). When the node registered batch
    /// handlers for types the queue accepts, a worker may hold at least the largest of their batch sizes
    /// (<see cref="Handlers.BatchOptions.BatchSize"/>). Default 2; range 1–1000.
    /// </summary>
    public int Prefetch { get; set; } = 2;

    /// <summary>
    /// How long a delivery may take before it is taken back and redelivered with the next attempt number; the
    /// handler's cancellation token fires then. Default 5 min; range 1 s – 1 day.
    /// </summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Most messages the queue holds (waiting, in flight and scheduled); past it enqueue is refused with QueueFull. Default 1,000,000; range 1–100,000,000.</summary>
    public int MaxLength { get; set; } = 1_000_000;

    /// <summary>
    /// Most payload bytes the queue holds (waiting, in flight and scheduled, wherever the payloads are); past it enqueue
    /// is refused with QueueFull, like <see cref="MaxLength"/>. Payloads beyond <see cref="PayloadMemoryBytes"/> live in
    /// the journal, so this bounds disk, not memory. Default 4 GiB; range 1 MiB – 1 TiB.
    /// </summary>
    public long MaxBytes { get; set; } = 4L * 1024 * 1024 * 1024;

    /// <summary>Largest payload in bytes. Default 1 MiB; range 0–64 MiB.</summary>
    public int MaxPayloadBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Largest result in bytes a handler may return. A larger one is not stored: the message is dead-lettered at once
    /// (not retried: the same handler would return the same result) with the error <c>ResultTooLarge</c>, "result of N
    /// bytes exceeds MaxResultBytes M", and its <c>onFailure</c> continuation follows. Default 64 KiB; range 1 B – 64 MiB.
    /// </summary>
    public int MaxResultBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// The message types the queue accepts. Default: empty, meaning any type (a type with no handler is then
    /// dead-lettered with that reason). When set, other types are refused at enqueue time.
    /// </summary>
    public IList<string> AllowedTypes { get; set; } = new List<string>();

    /// <summary>
    /// Partitions of the queue, each its own queue actor (in a cluster, placed on its own node), for a queue one actor
    /// cannot keep up with. Messages with the same key (the <c>key</c> header) always go to the same partition;
    /// keyless ones are spread round-robin. In-flight work and <see cref="MaxLength"/> apply per partition. Do not
    /// lower it while a partition holds messages. Default 1; range 1–256.
    /// </summary>
    public int Partitions { get; set; } = 1;

    /// <summary>
    /// How fast deliveries may start: a token bucket (see <see cref="RateLimitOptions"/>), enforced by the queue actor
    /// where it dispatches, so a cluster of any size does not multiply it. With several <see cref="Partitions"/> each
    /// partition gets its share (permits and burst divided by the partitions, rounded up, at least 1). Default null: unlimited.
    /// </summary>
    public RateLimitOptions? RateLimit { get; set; }

    /// <summary>
    /// Most deliveries in flight at once (handed to a worker and not yet reported) across the whole cluster, whatever the
    /// pool's size. With several <see cref="Partitions"/> each partition gets its share (divided by the partitions,
    /// rounded up, at least 1). Default null: bounded only by <see cref="Workers"/> × <see cref="Prefetch"/> per
    /// partition and node; range 1–1,000,000.
    /// </summary>
    public int? MaxConcurrency { get; set; }

    /// <summary>
    /// Whether a handler's push-back (<see cref="Handlers.RetryLaterException"/>, a webhook's 429) uses up one of the
    /// retry policy's attempts. When false, the message is retried after the delay asked for with the same attempt
    /// number, and neither <see cref="RetryPolicy.MaxAttempts"/> nor a retry rule applies to it: a handler that always
    /// pushes back is retried until the message expires (see <see cref="MessageTtl"/>), if ever. Default true.
    /// </summary>
    public bool RetryLaterCountsAsAttempt { get; set; } = true;

    /// <summary>The failure policy. Default: see <see cref="RetryPolicy"/>.</summary>
    public RetryPolicy Retry { get; set; } = new();

    /// <summary>
    /// Least journal events between snapshots; a snapshot also waits until the events since the last one carry as
    /// many messages as the queue holds, so its cost stays proportional to the work done. Default 10,000 (recovery
    /// replays at most that many events of a small queue, a fraction of a second; each snapshot and the deletes after
    /// it hold producers up for milliseconds, so fewer of them shorten the enqueue latency tail); range 10–1,000,000.
    /// </summary>
    public int SnapshotEvery { get; set; } = 10_000;

    /// <summary>
    /// Payload bytes of waiting messages the queue keeps in memory. Past it, new messages' payloads stay only in the
    /// journal and are read back, in order, shortly before they are dispatched, so a deep backlog costs memory for its
    /// bookkeeping (~130 bytes a message), not its payloads. Dead letters' payloads and results are bounded by
    /// <see cref="RetainedMemoryBytes"/> instead. Default 16 MiB; range 64 KiB – 16 GiB.
    /// </summary>
    public long PayloadMemoryBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// Finished messages (succeeded with their results, cancelled, expired and dropped) kept for status queries.
    /// Default 10,000; range 0–1,000,000.
    /// </summary>
    public int SucceededRetention { get; set; } = 10_000;

    /// <summary>
    /// How long a finished message is kept for status queries after it finished, besides the
    /// <see cref="SucceededRetention"/> count: whichever limit is reached first lets it go. Default 24 h; range 1 s – 365 days.
    /// </summary>
    public TimeSpan SucceededRetentionTime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Bytes of retained results and dead-letter payloads the queue keeps in memory. Past it, the oldest move to the
    /// queue's archive (a second journal stream, <c>queue-{name}-{partition}-archive</c>) and are read back when a status
    /// query or a redrive needs them. Default 64 MiB; range 0 (archive them all) – 16 GiB.
    /// </summary>
    public long RetainedMemoryBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>
    /// How long an idempotency key is remembered after its message was accepted: a request with the same key within
    /// it gets the first answer, even after the message finished. Keys past it are dropped, so memory stays bounded.
    /// Default 24 h; range 1 min – 7 days.
    /// </summary>
    public TimeSpan DeduplicationWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>When true, an enqueue without an idempotency key is refused (<c>IdempotencyKeyRequired</c>). Default false.</summary>
    public bool RequireIdempotencyKey { get; set; }

    /// <summary>Furthest a message may be delayed (delivery time minus receipt time). Default 365 days; range 1 s – 3,650 days.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromDays(365);

    /// <summary>
    /// Time to live of a message that names no expiry of its own, counted from when it may first start (receipt, or
    /// its delivery time): not started by then, it expires. Default null: messages never expire; range 1 s – 3,650 days.
    /// </summary>
    public TimeSpan? MessageTtl { get; set; }

    /// <summary>What happens to a message that expires before it starts. Default <see cref="ExpiredMessageAction.DeadLetter"/>.</summary>
    public ExpiredMessageAction ExpiredAction { get; set; } = ExpiredMessageAction.DeadLetter;

    /// <summary>
    /// What a keyed message that runs out of attempts (or is dead-lettered by its handler or a rule) does to its key.
    /// Default <see cref="KeyFailureAction.Park"/>: nothing of the key overtakes it until an operator acts.
    /// </summary>
    public KeyFailureAction KeyFailure { get; set; } = KeyFailureAction.Park;

    /// <summary>Dead letters a redrive moves back per second, in persisted chunks. Default 10,000; range 10–1,000,000.</summary>
    public int RedrivePerSecond { get; set; } = 10_000;

    /// <summary>
    /// Callers one queue partition lets wait for messages' outcomes at once (<c>WaitAsync</c>, <c>?wait=</c>); past it a
    /// wait is refused with <c>TooManyWaiters</c> (HTTP 503). Default 10,000; range 1–1,000,000.
    /// </summary>
    public int MaxWaiters { get; set; } = 10_000;

    /// <summary>
    /// These options with each worker allowed at least the largest batch size of the batch handlers in
    /// <paramref name="handlers"/> for the types this queue accepts, so a worker can hold a full batch; the same
    /// options when <see cref="Prefetch"/> already allows it.
    /// </summary>
    internal QueueOptions WithBatchCredit(Handlers.HandlerRegistry handlers)
    {
        var batch = handlers.LargestBatchSize(this);
        if (batch <= Prefetch) return this;
        var widened = (QueueOptions)MemberwiseClone();
        widened.Prefetch = batch;
        return widened;
    }

    /// <summary>Throws <see cref="ArgumentException"/> when a value is out of range.</summary>
    public void Validate(string queue)
    {
        if (Workers is < 0 or > 1024) throw new ArgumentException($"Queue '{queue}': Workers must be 0–1024, was {Workers}.");
        if (Partitions is < 1 or > global::Actors.Partitions.Max) throw new ArgumentException($"Queue '{queue}': Partitions must be 1–256, was {Partitions}.");
        if (Prefetch is < 1 or > 1000) throw new ArgumentException($"Queue '{queue}': Prefetch must be 1–1000, was {Prefetch}.");
        if (Lease < TimeSpan.FromSeconds(1) || Lease > TimeSpan.FromDays(1)) throw new ArgumentException($"Queue '{queue}': Lease must be 1 s – 1 day, was {Lease}.");
        if (MaxLength is < 1 or > 100_000_000) throw new ArgumentException($"Queue '{queue}': MaxLength must be 1–100,000,000, was {MaxLength}.");
        if (MaxBytes is < 1024 * 1024 or > 1024L * 1024 * 1024 * 1024) throw new ArgumentException($"Queue '{queue}': MaxBytes must be 1 MiB – 1 TiB, was {MaxBytes}.");
        if (MaxPayloadBytes is < 0 or > 64 * 1024 * 1024) throw new ArgumentException($"Queue '{queue}': MaxPayloadBytes must be 0–64 MiB, was {MaxPayloadBytes}.");
        if (MaxResultBytes is < 1 or > 64 * 1024 * 1024) throw new ArgumentException($"Queue '{queue}': MaxResultBytes must be 1 B – 64 MiB, was {MaxResultBytes}.");
        if (SnapshotEvery is < 10 or > 1_000_000) throw new ArgumentException($"Queue '{queue}': SnapshotEvery must be 10–1,000,000, was {SnapshotEvery}.");
        if (PayloadMemoryBytes is < 64 * 1024 or > 16L * 1024 * 1024 * 1024) throw new ArgumentException($"Queue '{queue}': PayloadMemoryBytes must be 64 KiB – 16 GiB, was {PayloadMemoryBytes}.");
        if (SucceededRetention is < 0 or > 1_000_000) throw new ArgumentException($"Queue '{queue}': SucceededRetention must be 0–1,000,000, was {SucceededRetention}.");
        if (SucceededRetentionTime < TimeSpan.FromSeconds(1) || SucceededRetentionTime > TimeSpan.FromDays(365)) throw new ArgumentException($"Queue '{queue}': SucceededRetentionTime must be 1 s – 365 days, was {SucceededRetentionTime}.");
        if (RetainedMemoryBytes is < 0 or > 16L * 1024 * 1024 * 1024) throw new ArgumentException($"Queue '{queue}': RetainedMemoryBytes must be 0 – 16 GiB, was {RetainedMemoryBytes}.");
        if (RedrivePerSecond is < 10 or > 1_000_000) throw new ArgumentException($"Queue '{queue}': RedrivePerSecond must be 10–1,000,000, was {RedrivePerSecond}.");
        if (MaxWaiters is < 1 or > 1_000_000) throw new ArgumentException($"Queue '{queue}': MaxWaiters must be 1–1,000,000, was {MaxWaiters}.");
        if (DeduplicationWindow < TimeSpan.FromMinutes(1) || DeduplicationWindow > TimeSpan.FromDays(7)) throw new ArgumentException($"Queue '{queue}': DeduplicationWindow must be 1 min – 7 days, was {DeduplicationWindow}.");
        if (MaxDelay < TimeSpan.FromSeconds(1) || MaxDelay > TimeSpan.FromDays(3650)) throw new ArgumentException($"Queue '{queue}': MaxDelay must be 1 s – 3,650 days, was {MaxDelay}.");
        if (MessageTtl is { } ttl && (ttl < TimeSpan.FromSeconds(1) || ttl > TimeSpan.FromDays(3650))) throw new ArgumentException($"Queue '{queue}': MessageTtl must be 1 s – 3,650 days, was {ttl}.");
        if (MaxConcurrency is < 1 or > 1_000_000) throw new ArgumentException($"Queue '{queue}': MaxConcurrency must be 1–1,000,000, was {MaxConcurrency}.");
        RateLimit?.Validate(queue);
        Autoscale?.Validate(queue);
        foreach (var type in AllowedTypes)
        {
            if (!Names.IsValidMessageType(type)) throw new ArgumentException($"Queue '{queue}': allowed type '{type}' is not a valid type name.");
        }
        Retry.Validate(queue);
    }
}

/// <summary>What a keyed message that fails for good does to the rest of its key.</summary>
public enum KeyFailureAction
{
    /// <summary>
    /// Park the message and its key: the message is a dead letter (status <c>parked</c>) and nothing of its key starts
    /// until an operator releases it (runs it again), skips it (it stays a dead letter, the key goes on) or purges the
    /// key. Other keys flow.
    /// </summary>
    Park = 0,

    /// <summary>Dead-letter the message and go on with the key's next message (the behaviour of SQS FIFO and Service Bus sessions).</summary>
    DeadLetterAndContinue = 1,
}

/// <summary>What a queue does with a message that expires before it starts.</summary>
public enum ExpiredMessageAction
{
    /// <summary>Move it to the dead-letter set with reason <c>expired</c>, for an operator to inspect or redrive.</summary>
    DeadLetter = 0,

    /// <summary>Drop it (recorded and counted; its status reads <c>expired</c> while retained).</summary>
    Discard = 1,
}
