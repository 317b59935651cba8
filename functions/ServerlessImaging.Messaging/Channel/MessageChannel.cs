using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Messaging.Resilience;
using ServerlessImaging.Messaging.Storage;
using ServerlessImaging.Messaging.Transport;

namespace ServerlessImaging.Messaging.Channel;

/// <summary>
/// Envelopes over a queue transport: encodes with <see cref="MessageCodec"/>, offloads bodies over the queue
/// limit to an <see cref="IMessageBodyStore"/>, quarantines what cannot be read or keeps failing into a poison
/// queue (reported, never lost, never retried forever), and rides out outages with exponential backoff and jitter.
/// Thread-safe; one instance serves any number of queues.
/// </summary>
public sealed class MessageChannel
{
    private readonly IMessageTransport _transport;
    private readonly IMessageBodyStore? _bodies;
    private readonly MessageChannelOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ResiliencePipeline _sendPipeline;
    private readonly ResiliencePipeline _receivePipeline;
    private readonly ConcurrentDictionary<string, Task> _ensuredQueues = new(StringComparer.Ordinal);

    /// <summary>Creates the channel. Without a body store, sending a body over the limit throws.</summary>
    public MessageChannel(IMessageTransport transport, IMessageBodyStore? bodies, MessageChannelOptions? options = null, ILogger<MessageChannel>? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        _transport = transport;
        _bodies = bodies;
        _options = options ?? new MessageChannelOptions();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _sendPipeline = TransientFailures.CreateRetryPipeline(_options.ReconnectBaseDelay, _options.ReconnectMaxDelay, _options.SendAttempts, LogRetry);
        _receivePipeline = TransientFailures.CreateRetryPipeline(_options.ReconnectBaseDelay, _options.ReconnectMaxDelay, null, LogRetry);
    }

    /// <summary>The options in force.</summary>
    public MessageChannelOptions Options => _options;

    /// <summary>Sends an envelope to <paramref name="queue"/> (offloading its body if too large).</summary>
    public Task SendAsync(string queue, MessageEnvelope envelope, CancellationToken cancellationToken, TimeSpan? visibilityDelay = null)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return SendRawAsync(queue, MessageCodec.Serialize(envelope), envelope.MessageId, envelope.Type, envelope.CorrelationId, visibilityDelay, cancellationToken);
    }

    /// <summary>Takes the next readable messages (possibly none); poison is quarantined on the way.</summary>
    public async Task<IReadOnlyList<ChannelMessage>> ReceiveAsync(string queue, CancellationToken cancellationToken)
    {
        await EnsureQueueAsync(queue, cancellationToken);
        var batch = await _receivePipeline.ExecuteAsync(
            async ct => await _transport.ReceiveAsync(queue, _options.BatchSize, _options.VisibilityTimeout, ct),
            cancellationToken);
        var readable = new List<ChannelMessage>(batch.Count);
        foreach (var message in batch)
        {
            if (await DecodeOrQuarantineAsync(message, cancellationToken) is { } decoded)
            {
                readable.Add(decoded);
            }
        }

        return readable;
    }

    /// <summary>Receives forever: polls (slowing down while idle), reconnects with backoff, yields readable messages.</summary>
    public async IAsyncEnumerable<ChannelMessage> ListenAsync(string queue, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var idle = _options.MinPollInterval;
        while (!cancellationToken.IsCancellationRequested)
        {
            IReadOnlyList<ChannelMessage> batch;
            try
            {
                batch = await ReceiveAsync(queue, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                yield break;
            }

            if (batch.Count == 0)
            {
                try
                {
                    await Task.Delay(idle, _time, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }

                idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, _options.MaxPollInterval.Ticks));
                continue;
            }

            idle = _options.MinPollInterval;
            foreach (var message in batch)
            {
                yield return message;
            }
        }
    }

    /// <summary>Deletes a handled message, then its offloaded body. A lost lease surfaces as <see cref="LeaseLostException"/>.</summary>
    public async Task CompleteAsync(ChannelMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        await _sendPipeline.ExecuteAsync(async ct => await _transport.CompleteAsync(message.Transport, ct), cancellationToken);
        if (message.BodyReference is { } reference && _bodies is not null)
        {
            try
            {
                await _bodies.DeleteAsync(reference, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The lifecycle rule removes it later; the message itself is done.
                _logger.LogWarning(ex, "Could not delete the offloaded body of message {MessageId} on {Queue}", message.Envelope.MessageId, message.Queue);
            }
        }
    }

    /// <summary>
    /// Decodes a queue message that something else dequeued (the Azure Functions host's queue trigger in
    /// Functions app's queue trigger): fetches an offloaded body from the body store when the message is a pointer.
    /// Throws <see cref="MessageContractException"/> for a malformed envelope and
    /// <see cref="MessageBodyMissingException"/> when the pointer names a body that is not there.
    /// Once the message is handled, pass the returned reference to <see cref="ReleaseOffloadedBodyAsync"/>.
    /// </summary>
    public async Task<(MessageEnvelope Envelope, MessageBodyReference? OffloadedBody)> DecodeDeliveredAsync(ReadOnlyMemory<byte> queueMessage, CancellationToken cancellationToken)
    {
        var pointer = QueueWireFormat.TryReadPointer(queueMessage.Span);
        if (pointer is null)
        {
            return (MessageCodec.Deserialize(queueMessage), null);
        }

        var downloaded = _bodies is null
            ? null
            : await _receivePipeline.ExecuteAsync(async ct => await _bodies.DownloadAsync(pointer, ct), cancellationToken);
        if (downloaded is null)
        {
            throw new MessageBodyMissingException(_bodies is null ? "Offloaded body but no body store is configured." : "Offloaded body blob does not exist.");
        }

        return (MessageCodec.Deserialize(downloaded), pointer);
    }

    /// <summary>Deletes the offloaded body of a message handled outside <see cref="CompleteAsync"/>; failures are left to the lifecycle rule.</summary>
    public async Task ReleaseOffloadedBodyAsync(MessageBodyReference? reference, CancellationToken cancellationToken)
    {
        if (reference is null || _bodies is null)
        {
            return;
        }

        try
        {
            await _bodies.DeleteAsync(reference, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.LogWarning(ex, "Could not delete an offloaded message body ({Blob})", reference.Blob);
        }
    }

    /// <summary>Gives a message back: it becomes visible again after <paramref name="redeliverAfter"/> (default now).</summary>
    public async Task AbandonAsync(ChannelMessage message, CancellationToken cancellationToken, TimeSpan? redeliverAfter = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        message.Transport = await _sendPipeline.ExecuteAsync(
            async ct => await _transport.SetVisibilityAsync(message.Transport, redeliverAfter ?? TimeSpan.Zero, ct),
            cancellationToken);
    }

    /// <summary>Extends the lease of a message still being handled by <paramref name="extension"/> from now.</summary>
    public async Task RenewAsync(ChannelMessage message, TimeSpan extension, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        message.Transport = await _sendPipeline.ExecuteAsync(
            async ct => await _transport.SetVisibilityAsync(message.Transport, extension, ct),
            cancellationToken);
    }

    /// <summary>The consumer decided a readable message can never be handled: move it to the poison queue and report it.</summary>
    public Task QuarantineAsync(ChannelMessage message, string safeDetail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var envelope = message.Envelope;
        return QuarantineAsync(message.Transport, MessageCodec.Serialize(envelope), (envelope.MessageId, envelope.Type, envelope.CorrelationId), PoisonReason.RejectedByConsumer, safeDetail, message.BodyReference, cancellationToken);
    }

    private async Task SendRawAsync(string queue, byte[] body, string? messageId, string? type, string? correlationId, TimeSpan? visibilityDelay, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(queue);
        await EnsureQueueAsync(queue, cancellationToken);
        ReadOnlyMemory<byte> payload = body;
        var threshold = Math.Min(_options.OffloadThresholdBytes ?? _transport.MaxMessageBytes, _transport.MaxMessageBytes);
        if (body.Length > threshold)
        {
            if (_bodies is null)
            {
                throw new InvalidOperationException($"Message of {body.Length} bytes exceeds the queue limit of {threshold} bytes and no body store is configured.");
            }

            var reference = await _sendPipeline.ExecuteAsync(async ct => await _bodies.UploadAsync(queue, body, ct), cancellationToken);
            payload = QueueWireFormat.WritePointer(reference, messageId, type, correlationId);
            _logger.LogDebug("Offloaded a {Bytes}-byte body of message {MessageId} to {Blob}", body.Length, messageId, reference.Blob);
        }

        await _sendPipeline.ExecuteAsync(async ct => await _transport.SendAsync(queue, payload, visibilityDelay, ct), cancellationToken);
    }

    private async Task<ChannelMessage?> DecodeOrQuarantineAsync(TransportMessage message, CancellationToken cancellationToken)
    {
        var pointer = QueueWireFormat.TryReadPointer(message.Body.Span);
        var identity = QueueWireFormat.TryReadIdentity(message.Body.Span);
        if (message.DeliveryCount > _options.MaxDeliveries)
        {
            await QuarantineAsync(message, message.Body.ToArray(), identity, PoisonReason.TooManyDeliveries,
                $"Delivered {message.DeliveryCount} times (limit {_options.MaxDeliveries}) without being completed.", pointer, cancellationToken);
            return null;
        }

        ReadOnlyMemory<byte> bytes = message.Body;
        if (pointer is not null)
        {
            var downloaded = _bodies is null
                ? null
                : await _receivePipeline.ExecuteAsync(async ct => await _bodies.DownloadAsync(pointer, ct), cancellationToken);
            if (downloaded is null)
            {
                await QuarantineAsync(message, message.Body.ToArray(), identity, PoisonReason.BodyMissing,
                    _bodies is null ? "Offloaded body but no body store is configured." : "Offloaded body blob does not exist.", null, cancellationToken);
                return null;
            }

            bytes = downloaded;
        }

        try
        {
            return new ChannelMessage(MessageCodec.Deserialize(bytes), message, pointer);
        }
        catch (MessageContractException ex)
        {
            await QuarantineAsync(message, bytes.ToArray(), identity, PoisonReason.Malformed, $"{ex.Error}: {ex.Message}", pointer, cancellationToken);
            return null;
        }
    }

    private async Task QuarantineAsync(TransportMessage message, byte[] raw, (string? MessageId, string? Type, string? CorrelationId) identity, PoisonReason reason, string detail, MessageBodyReference? offloadedBody, CancellationToken cancellationToken)
    {
        var (messageId, type, correlationId) = identity;
        var poisonQueue = _options.PoisonQueueName(message.Queue);
        var report = new PoisonReport(message.Queue, poisonQueue, message.Id, messageId, type, reason, message.DeliveryCount, detail, correlationId);
        var record = new PoisonRecord(report, _time.GetUtcNow(), PoisonRecord.RawText(raw));

        // Poison copy first, original second: a crash in between duplicates the poison copy, never loses the message.
        await SendRawAsync(poisonQueue, record.Serialize(), messageId, type, correlationId, null, cancellationToken);
        try
        {
            await _sendPipeline.ExecuteAsync(async ct => await _transport.CompleteAsync(message, ct), cancellationToken);
        }
        catch (LeaseLostException)
        {
            // Someone else holds it now; they will quarantine it too (the poison copy is then duplicated, not lost).
        }

        if (offloadedBody is not null && _bodies is not null && raw.Length > 0 && QueueWireFormat.TryReadPointer(raw) is null)
        {
            // The record holds the body's content itself, so the offloaded blob can go.
            await _bodies.DeleteAsync(offloadedBody, cancellationToken);
        }

        _logger.LogWarning("Quarantined message {MessageId} ({Type}) from {Queue} into {PoisonQueue}: {Reason} after {Deliveries} deliveries. {Detail}",
            messageId, type, message.Queue, poisonQueue, reason, message.DeliveryCount, detail);
        if (_options.OnQuarantined is { } callback)
        {
            try
            {
                await callback(report, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _logger.LogError(ex, "Poison report handler failed for message {MessageId} from {Queue}", messageId, message.Queue);
            }
        }
    }

    private Task EnsureQueueAsync(string queue, CancellationToken cancellationToken)
    {
        if (!_options.CreateQueuesIfMissing)
        {
            return Task.CompletedTask;
        }

        var task = _ensuredQueues.GetOrAdd(queue, q => _sendPipeline.ExecuteAsync(async ct => await _transport.EnsureQueueAsync(q, ct), CancellationToken.None).AsTask());
        if (task.IsFaulted)
        {
            _ensuredQueues.TryRemove(queue, out _);
        }

        return task.WaitAsync(cancellationToken);
    }

    private void LogRetry(Exception exception, TimeSpan delay, int attempt) =>
        _logger.LogWarning("Queue service unreachable or busy ({Error}); attempt {Attempt}, retrying in {Delay} ms",
            exception.GetType().Name, attempt, (int)delay.TotalMilliseconds);
}
