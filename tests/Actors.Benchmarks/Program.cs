using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Protocol;
using Actors.Serialization;
using Actors.State;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using static Actors.Protocol.QueueEvents;

// Hot-path micro-benchmarks: the binary codec of the hot events and the pure queue state's transitions.
// Run: dotnet run -c Release --project tests/Actors.Benchmarks -- --filter '*' --inProcess   (add --job dry for a smoke run)
BenchmarkSwitcher.FromAssembly(typeof(Actors.Benchmarks.CodecBenchmarks).Assembly).Run(args);

namespace Actors.Benchmarks
{

/// <summary>Encoding and decoding one enqueue event of 100 messages of 512 bytes, and one ack event of 1,000 ids.</summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private MessagesEnqueued _enqueued = null!;
    private byte[] _enqueuedBytes = null!;
    private MessagesAcked _acked = null!;
    private byte[] _ackedBytes = null!;

    [GlobalSetup]
    public void Setup()
    {
        var payload = new byte[512];
        Random.Shared.NextBytes(payload);
        var now = DateTime.UtcNow;
        _enqueued = new MessagesEnqueued(Enumerable.Range(1, 100)
            .Select(i => new EnqueuedMessage(i, "send_email", payload, ImmutableDictionary<string, string>.Empty, now)).ToImmutableArray());
        _enqueuedBytes = BinaryCodec.Write(w => BinaryCodec.WriteEnqueued(w, _enqueued));
        _acked = new MessagesAcked(Enumerable.Range(1, 1000).Select(i => new AckedMessage(i, 1, null, now)).ToImmutableArray());
        _ackedBytes = BinaryCodec.Write(w => BinaryCodec.WriteAcked(w, _acked));
    }

    [Benchmark]
    public byte[] EncodeEnqueued100() => BinaryCodec.Write(w => BinaryCodec.WriteEnqueued(w, _enqueued));

    [Benchmark]
    public MessagesEnqueued DecodeEnqueued100() => BinaryCodec.Read(_enqueuedBytes, r => BinaryCodec.ReadEnqueued(r, withTiming: true));

    [Benchmark]
    public byte[] EncodeAcked1000() => BinaryCodec.Write(w => BinaryCodec.WriteAcked(w, _acked));

    [Benchmark]
    public MessagesAcked DecodeAcked1000() => BinaryCodec.Read(_ackedBytes, BinaryCodec.ReadAcked);
}

/// <summary>One message's whole life in the pure state: enqueue (batch of 100), dispatch, complete, acknowledge.</summary>
[MemoryDiagnoser]
public class StateBenchmarks
{
    private readonly DateTime _now = DateTime.UtcNow;
    private EnqueuedMessage[] _messages = null!;

    [GlobalSetup]
    public void Setup()
    {
        var payload = new byte[512];
        _messages = Enumerable.Range(1, 100)
            .Select(i => new EnqueuedMessage(i, "send_email", payload, ImmutableDictionary<string, string>.Empty, _now)).ToArray();
    }

    [Benchmark(OperationsPerInvoke = 100)]
    public long Lifecycle100()
    {
        var state = new QueueState("q", new QueueOptions());
        state.Apply(new MessagesEnqueued(ImmutableArray.Create(_messages)));
        var acks = ImmutableArray.CreateBuilder<AckedMessage>(100);
        while (state.Dispatch(0, _now) is { } message)
        {
            state.TryBeginCompletion(message.Id, message.Attempt, out _);
            acks.Add(new AckedMessage(message.Id, message.Attempt, null, _now));
        }
        state.Apply(new MessagesAcked(acks.MoveToImmutable()));
        return state.TotalSucceeded;
    }
}
}
