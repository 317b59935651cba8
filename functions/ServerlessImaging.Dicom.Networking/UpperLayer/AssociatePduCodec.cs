using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace ServerlessImaging.Dicom.Networking.UpperLayer;

/// <summary>Encodes and decodes A-ASSOCIATE-RQ/AC/RJ, A-RELEASE and A-ABORT PDUs (PS3.8 9.3). Decoding is bounds-checked: malformed input raises <see cref="DicomProtocolException"/>.</summary>
internal static class AssociatePduCodec
{
    private const byte ApplicationContextItem = 0x10;
    private const byte PresentationContextRqItem = 0x20;
    private const byte PresentationContextAcItem = 0x21;
    private const byte AbstractSyntaxItem = 0x30;
    private const byte TransferSyntaxItem = 0x40;
    private const byte UserInformationItem = 0x50;
    private const byte MaxLengthSubItem = 0x51;
    private const byte ImplementationClassSubItem = 0x52;
    private const byte AsyncOpsSubItem = 0x53;
    private const byte RoleSelectionSubItem = 0x54;
    private const byte ImplementationVersionSubItem = 0x55;
    private const byte UserIdentityRqSubItem = 0x58;
    private const byte UserIdentityAcSubItem = 0x59;

    public static byte[] EncodeRequest(AssociateRequest rq)
    {
        var w = new ArrayBufferWriter<byte>(512);
        WriteHeaderPlaceholder(w, PduType.AssociateRequest);
        WriteFixedFields(w, rq.CalledAeTitle, rq.CallingAeTitle);
        WriteStringItem(w, ApplicationContextItem, rq.ApplicationContext);
        foreach (var pc in rq.PresentationContexts)
        {
            var start = BeginItem(w, PresentationContextRqItem);
            w.Write<byte>([pc.Id, 0, 0, 0]);
            WriteStringItem(w, AbstractSyntaxItem, pc.AbstractSyntax);
            foreach (var ts in pc.TransferSyntaxes) WriteStringItem(w, TransferSyntaxItem, ts);
            EndItem(w, start);
        }
        WriteUserInformation(w, rq.MaxPduLength, rq.ImplementationClassUid, rq.ImplementationVersionName, rq.AsyncOperationsWindow, rq.RoleSelections, rq.UserIdentity, null);
        return Finish(w);
    }

    public static byte[] EncodeAccept(AssociateAccept ac)
    {
        var w = new ArrayBufferWriter<byte>(512);
        WriteHeaderPlaceholder(w, PduType.AssociateAccept);
        WriteFixedFields(w, ac.CalledAeTitle, ac.CallingAeTitle);
        WriteStringItem(w, ApplicationContextItem, ac.ApplicationContext);
        foreach (var pc in ac.PresentationContexts)
        {
            var start = BeginItem(w, PresentationContextAcItem);
            w.Write<byte>([pc.Id, 0, (byte)pc.Result, 0]);
            // PS3.8 9.3.3.2: the transfer syntax sub-item is present but not significant when not accepted.
            WriteStringItem(w, TransferSyntaxItem, pc.Result == PresentationContextResult.Acceptance ? pc.TransferSyntax ?? "" : DicomUids.ImplicitVrLittleEndian);
            EndItem(w, start);
        }
        WriteUserInformation(w, ac.MaxPduLength, ac.ImplementationClassUid, ac.ImplementationVersionName, ac.AsyncOperationsWindow, ac.RoleSelections, null, ac.UserIdentityServerResponse);
        return Finish(w);
    }

    public static byte[] EncodeReject(RejectResult result, RejectSource source, byte reason) =>
        [(byte)PduType.AssociateReject, 0, 0, 0, 0, 4, 0, (byte)result, (byte)source, reason];

    public static byte[] EncodeReleaseRequest() => [(byte)PduType.ReleaseRequest, 0, 0, 0, 0, 4, 0, 0, 0, 0];
    public static byte[] EncodeReleaseResponse() => [(byte)PduType.ReleaseResponse, 0, 0, 0, 0, 4, 0, 0, 0, 0];
    public static byte[] EncodeAbort(AbortSource source, AbortReason reason) =>
        [(byte)PduType.Abort, 0, 0, 0, 0, 4, 0, 0, (byte)source, (byte)reason];

    public static AssociateRequest DecodeRequest(ReadOnlySpan<byte> body)
    {
        var (called, calling) = ReadFixedFields(body);
        string? appContext = null;
        var contexts = new List<PresentationContextProposal>();
        var user = new UserInformation();
        var items = body[68..];
        while (!items.IsEmpty)
        {
            var type = NextItem(ref items, out var value);
            switch (type)
            {
                case ApplicationContextItem: appContext = Ascii(value); break;
                case PresentationContextRqItem:
                    {
                        Require(value.Length >= 4, "presentation context item too short");
                        var id = value[0];
                        string? abstractSyntax = null;
                        var syntaxes = new List<string>();
                        var sub = value[4..];
                        while (!sub.IsEmpty)
                        {
                            var st = NextItem(ref sub, out var sv);
                            if (st == AbstractSyntaxItem) abstractSyntax = Ascii(sv);
                            else if (st == TransferSyntaxItem) syntaxes.Add(Ascii(sv));
                        }
                        Require(abstractSyntax is not null, "presentation context without abstract syntax");
                        contexts.Add(new PresentationContextProposal(id, abstractSyntax!, syntaxes));
                        break;
                    }
                case UserInformationItem: user = DecodeUserInformation(value); break;
                default: break; // unknown items are ignored (PS3.8 9.3.1)
            }
        }
        Require(appContext is not null, "A-ASSOCIATE-RQ without application context");
        return new AssociateRequest
        {
            CalledAeTitle = called,
            CallingAeTitle = calling,
            ApplicationContext = appContext!,
            PresentationContexts = contexts,
            MaxPduLength = user.MaxPduLength,
            ImplementationClassUid = user.ImplementationClassUid ?? "",
            ImplementationVersionName = user.ImplementationVersionName,
            AsyncOperationsWindow = user.AsyncOperationsWindow,
            RoleSelections = user.RoleSelections,
            UserIdentity = user.UserIdentity,
        };
    }

    public static AssociateAccept DecodeAccept(ReadOnlySpan<byte> body)
    {
        var (called, calling) = ReadFixedFields(body);
        string? appContext = null;
        var contexts = new List<PresentationContextAnswer>();
        var user = new UserInformation();
        var items = body[68..];
        while (!items.IsEmpty)
        {
            var type = NextItem(ref items, out var value);
            switch (type)
            {
                case ApplicationContextItem: appContext = Ascii(value); break;
                case PresentationContextAcItem:
                    {
                        Require(value.Length >= 4, "presentation context item too short");
                        var id = value[0];
                        var result = (PresentationContextResult)value[2];
                        string? ts = null;
                        var sub = value[4..];
                        while (!sub.IsEmpty)
                        {
                            var st = NextItem(ref sub, out var sv);
                            if (st == TransferSyntaxItem) ts = Ascii(sv);
                        }
                        contexts.Add(new PresentationContextAnswer(id, result, result == PresentationContextResult.Acceptance ? ts : null));
                        break;
                    }
                case UserInformationItem: user = DecodeUserInformation(value); break;
                default: break;
            }
        }
        return new AssociateAccept
        {
            CalledAeTitle = called,
            CallingAeTitle = calling,
            ApplicationContext = appContext ?? "",
            PresentationContexts = contexts,
            MaxPduLength = user.MaxPduLength,
            ImplementationClassUid = user.ImplementationClassUid ?? "",
            ImplementationVersionName = user.ImplementationVersionName,
            AsyncOperationsWindow = user.AsyncOperationsWindow,
            RoleSelections = user.RoleSelections,
            UserIdentityServerResponse = user.ServerResponse,
        };
    }

    public static (RejectResult Result, RejectSource Source, byte Reason) DecodeReject(ReadOnlySpan<byte> body)
    {
        Require(body.Length >= 4, "A-ASSOCIATE-RJ too short");
        return ((RejectResult)body[1], (RejectSource)body[2], body[3]);
    }

    public static (AbortSource Source, AbortReason Reason) DecodeAbort(ReadOnlySpan<byte> body)
    {
        Require(body.Length >= 4, "A-ABORT too short");
        return ((AbortSource)body[2], (AbortReason)body[3]);
    }

    private sealed class UserInformation
    {
        public uint MaxPduLength { get; set; }
        public string? ImplementationClassUid { get; set; }
        public string? ImplementationVersionName { get; set; }
        public (ushort, ushort)? AsyncOperationsWindow { get; set; }
        public List<RoleSelection> RoleSelections { get; } = [];
        public UserIdentityRequest? UserIdentity { get; set; }
        public byte[]? ServerResponse { get; set; }
    }

    private static UserInformation DecodeUserInformation(ReadOnlySpan<byte> value)
    {
        var info = new UserInformation();
        while (!value.IsEmpty)
        {
            var type = NextItem(ref value, out var v);
            switch (type)
            {
                case MaxLengthSubItem:
                    Require(v.Length == 4, "maximum length sub-item must be 4 bytes");
                    info.MaxPduLength = BinaryPrimitives.ReadUInt32BigEndian(v);
                    break;
                case ImplementationClassSubItem: info.ImplementationClassUid = Ascii(v); break;
                case ImplementationVersionSubItem: info.ImplementationVersionName = Ascii(v); break;
                case AsyncOpsSubItem:
                    Require(v.Length == 4, "asynchronous operations window sub-item must be 4 bytes");
                    info.AsyncOperationsWindow = (BinaryPrimitives.ReadUInt16BigEndian(v), BinaryPrimitives.ReadUInt16BigEndian(v[2..]));
                    break;
                case RoleSelectionSubItem:
                    {
                        Require(v.Length >= 2, "role selection sub-item too short");
                        var uidLength = BinaryPrimitives.ReadUInt16BigEndian(v);
                        Require(v.Length == 2 + uidLength + 2, "role selection sub-item length mismatch");
                        info.RoleSelections.Add(new RoleSelection(Ascii(v.Slice(2, uidLength)), v[2 + uidLength] == 1, v[3 + uidLength] == 1));
                        break;
                    }
                case UserIdentityRqSubItem:
                    {
                        Require(v.Length >= 6, "user identity sub-item too short");
                        var primaryLength = BinaryPrimitives.ReadUInt16BigEndian(v[2..]);
                        Require(v.Length >= 4 + primaryLength + 2, "user identity primary field overruns the item");
                        var secondaryLength = BinaryPrimitives.ReadUInt16BigEndian(v[(4 + primaryLength)..]);
                        Require(v.Length == 6 + primaryLength + secondaryLength, "user identity item length mismatch");
                        info.UserIdentity = new UserIdentityRequest(v[0], v[1] == 1, v.Slice(4, primaryLength).ToArray(), v.Slice(6 + primaryLength, secondaryLength).ToArray());
                        break;
                    }
                case UserIdentityAcSubItem:
                    {
                        Require(v.Length >= 2, "user identity response too short");
                        var length = BinaryPrimitives.ReadUInt16BigEndian(v);
                        Require(v.Length == 2 + length, "user identity response length mismatch");
                        info.ServerResponse = v.Slice(2, length).ToArray();
                        break;
                    }
                default: break;
            }
        }
        return info;
    }

    private static void WriteUserInformation(ArrayBufferWriter<byte> w, uint maxPdu, string implClass, string? implVersion,
        (ushort Invoked, ushort Performed)? asyncOps, IReadOnlyList<RoleSelection> roles, UserIdentityRequest? identity, byte[]? serverResponse)
    {
        var start = BeginItem(w, UserInformationItem);
        var span = w.GetSpan(8);
        span[0] = MaxLengthSubItem; span[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], 4);
        BinaryPrimitives.WriteUInt32BigEndian(span[4..], maxPdu);
        w.Advance(8);
        WriteStringItem(w, ImplementationClassSubItem, implClass);
        if (asyncOps is { } ops)
        {
            var s = BeginItem(w, AsyncOpsSubItem);
            var b = w.GetSpan(4);
            BinaryPrimitives.WriteUInt16BigEndian(b, ops.Invoked);
            BinaryPrimitives.WriteUInt16BigEndian(b[2..], ops.Performed);
            w.Advance(4);
            EndItem(w, s);
        }
        foreach (var role in roles)
        {
            var s = BeginItem(w, RoleSelectionSubItem);
            var uid = Encoding.ASCII.GetBytes(role.SopClassUid);
            var b = w.GetSpan(2);
            BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)uid.Length);
            w.Advance(2);
            w.Write(uid);
            w.Write<byte>([role.ScuRole ? (byte)1 : (byte)0, role.ScpRole ? (byte)1 : (byte)0]);
            EndItem(w, s);
        }
        if (!string.IsNullOrEmpty(implVersion)) WriteStringItem(w, ImplementationVersionSubItem, implVersion);
        if (identity is not null)
        {
            var s = BeginItem(w, UserIdentityRqSubItem);
            w.Write<byte>([identity.IdentityType, identity.PositiveResponseRequested ? (byte)1 : (byte)0]);
            WriteLengthPrefixed(w, identity.PrimaryField);
            WriteLengthPrefixed(w, identity.SecondaryField);
            EndItem(w, s);
        }
        if (serverResponse is not null)
        {
            var s = BeginItem(w, UserIdentityAcSubItem);
            WriteLengthPrefixed(w, serverResponse);
            EndItem(w, s);
        }
        EndItem(w, start);
    }

    private static void WriteLengthPrefixed(ArrayBufferWriter<byte> w, byte[] value)
    {
        var b = w.GetSpan(2);
        BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)value.Length);
        w.Advance(2);
        w.Write(value);
    }

    private static void WriteHeaderPlaceholder(ArrayBufferWriter<byte> w, PduType type) => w.Write<byte>([(byte)type, 0, 0, 0, 0, 0]);

    private static void WriteFixedFields(ArrayBufferWriter<byte> w, string called, string calling)
    {
        var span = w.GetSpan(68);
        span[..68].Clear();
        BinaryPrimitives.WriteUInt16BigEndian(span, 1); // protocol version
        WriteAeTitle(span.Slice(4, 16), called);
        WriteAeTitle(span.Slice(20, 16), calling);
        w.Advance(68);
    }

    private static void WriteAeTitle(Span<byte> target, string ae)
    {
        target.Fill((byte)' ');
        var trimmed = ae.Trim();
        if (trimmed.Length is 0 or > 16 || trimmed.Any(c => c is < ' ' or > '~' or '\\'))
            throw new ArgumentException("An AE title is 1 to 16 printable ASCII characters without backslash.", nameof(ae));
        Encoding.ASCII.GetBytes(trimmed, target);
    }

    private static (string Called, string Calling) ReadFixedFields(ReadOnlySpan<byte> body)
    {
        Require(body.Length >= 68, "A-ASSOCIATE PDU shorter than its fixed fields");
        return (Encoding.ASCII.GetString(body.Slice(4, 16)).Trim(), Encoding.ASCII.GetString(body.Slice(20, 16)).Trim());
    }

    private static void WriteStringItem(ArrayBufferWriter<byte> w, byte type, string value)
    {
        var bytes = Encoding.ASCII.GetBytes(value);
        var span = w.GetSpan(4);
        span[0] = type; span[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], (ushort)bytes.Length);
        w.Advance(4);
        w.Write(bytes);
    }

    private static int BeginItem(ArrayBufferWriter<byte> w, byte type)
    {
        var start = w.WrittenCount;
        w.Write<byte>([type, 0, 0, 0]);
        return start;
    }

    private static void EndItem(ArrayBufferWriter<byte> w, int start)
    {
        var length = w.WrittenCount - start - 4;
        // ArrayBufferWriter exposes written memory read-only; patching the length in place is safe because we own the buffer.
        var written = System.Runtime.InteropServices.MemoryMarshal.AsMemory(w.WrittenMemory);
        BinaryPrimitives.WriteUInt16BigEndian(written.Span[(start + 2)..], checked((ushort)length));
    }

    private static byte[] Finish(ArrayBufferWriter<byte> w)
    {
        var bytes = w.WrittenSpan.ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(2), (uint)(bytes.Length - 6));
        return bytes;
    }

    private static byte NextItem(ref ReadOnlySpan<byte> items, out ReadOnlySpan<byte> value)
    {
        Require(items.Length >= 4, "truncated item header");
        var type = items[0];
        var length = BinaryPrimitives.ReadUInt16BigEndian(items[2..]);
        Require(items.Length >= 4 + length, $"item 0x{type:X2} length {length} overruns its PDU");
        value = items.Slice(4, length);
        items = items[(4 + length)..];
        return type;
    }

    private static string Ascii(ReadOnlySpan<byte> value) => Encoding.ASCII.GetString(value).TrimEnd(' ', '\0');

    private static void Require(bool condition, string message)
    {
        if (!condition) throw new DicomProtocolException(AbortReason.InvalidPduParameterValue, "Malformed PDU: " + message + ".");
    }
}
