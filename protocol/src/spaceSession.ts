/**
 * SpaceSession: one camera space's MLS group (ts-mls) seen from one device — create, join, restore, add,
 * re-add, remove, rotate, seal, open, export. One class on purpose (a little over 400 lines): every
 * operation shares its queue, its persist hook and its checks on incoming messages. The bytes around it
 * (key packages, pending joins, Welcome signers) live in keyPackages.ts.
 */
import {
  createApplicationMessage,
  createCommit,
  createGroup,
  decodeGroupState,
  defaultCapabilities,
  defaultKeyPackageEqualityConfig,
  defaultLifetimeConfig,
  defaultPaddingConfig,
  defaultLifetime,
  emptyPskIndex,
  encodeGroupState,
  encodeMlsMessage,
  generateKeyPackage,
  joinGroup,
  mlsExporter,
  processPrivateMessage,
  zeroOutUint8Array,
  type CiphersuiteImpl,
  type CiphersuiteName,
  type ClientConfig,
  type ClientState,
  type IncomingMessageCallback,
  type Proposal,
} from "ts-mls"
import { equalBytes } from "./bytes.ts"
import {
  credentialFor,
  identityOf,
  pinnedAuthService,
  type DeviceIdentity,
  type TrustPolicy,
} from "./credentials.ts"
import { CodecError, CryptoError, ProtocolStateError } from "./errors.ts"
import type { DeviceId } from "./ids.ts"
import { bucketLength } from "./lengthBuckets.ts"
import {
  decodeKeyPackage,
  decodeMessage,
  decodePrivatePackage,
  welcomeSignerLeaf,
  type PendingJoin,
} from "./keyPackages.ts"
import { SerialQueue } from "./serialQueue.ts"

export {
  claimedEpoch,
  createPendingJoin,
  decodeKeyPackage,
  keyPackageIdentity,
  mlsWireformat,
  pendingSignatureKeys,
  type PendingJoin,
  type SignatureKeys,
} from "./keyPackages.ts"
import { loadSuite } from "./suite.ts"

/** A member of the group as the ratchet tree shows it. */
export interface Member {
  leafIndex: number
  identity: DeviceIdentity
  signaturePublicKey: Uint8Array
}

/** Result of processing one incoming MLS message. */
export type Incoming =
  | { kind: "application"; data: Uint8Array; epoch: bigint }
  | { kind: "commit"; epoch: bigint; removedSelf: boolean }

/**
 * Called inside the group's queue after every change, before the change's output is released. A crash
 * after `persist` resolves loses nothing; a crash before it leaves the previous state, from which the
 * output (a commit, a message) was never sent.
 */
export type PersistState = (state: Uint8Array) => Promise<void>

/** A signature and its length prefix, over-estimated for every MLS signature scheme (ECDSA P-521: 139). */
const maxSignatureOverhead = 160

/**
 * Epochs kept for late messages. Small on purpose: keys of older epochs are deleted, which is what gives
 * forward secrecy when the hub commits a fresh epoch per clip.
 */
const keyRetentionConfig = {
  retainKeysForGenerations: 10,
  retainKeysForEpochs: 2,
  maximumForwardRatchetSteps: 200,
}

function clientConfig(trust: TrustPolicy): ClientConfig {
  return {
    keyRetentionConfig,
    lifetimeConfig: defaultLifetimeConfig,
    keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
    paddingConfig: defaultPaddingConfig,
    authService: pinnedAuthService(trust),
  }
}

/**
 * One camera space's MLS group, seen from one device. Every operation runs through one queue and persists
 * the new state before returning, so state on disk and messages on the wire never diverge.
 */
export class SpaceSession {
  private readonly queue = new SerialQueue()

  private constructor(
    private state: ClientState,
    private readonly cs: CiphersuiteImpl,
    private readonly persist: PersistState,
  ) {}

  /** The hub founds the group; it is leaf 0 and the only committer. */
  static async create(opts: {
    groupId: Uint8Array
    self: DeviceIdentity
    trust: TrustPolicy
    persist: PersistState
    /** Suite 1 by default; the post-quantum hybrid X-Wing suite is `MLS_256_XWING_AES256GCM_SHA512_Ed25519`. */
    suite?: CiphersuiteName
  }): Promise<SpaceSession> {
    const cs = await loadSuite(opts.suite)
    const kp = await generateKeyPackage(
      credentialFor(opts.self),
      defaultCapabilities(),
      defaultLifetime,
      [],
      cs,
    )
    const state = await createGroup(
      opts.groupId,
      kp.publicPackage,
      kp.privatePackage,
      [],
      cs,
      clientConfig(opts.trust),
    )
    const session = new SpaceSession(state, cs, opts.persist)
    await opts.persist(session.encode())
    return session
  }

  /**
   * A phone joins from the hub's Welcome, with the key package it sent. `signer` is the signature key the
   * Welcome's GroupInfo must be signed with (the hub's pinned key): without that check any member could
   * hand a joining phone a Welcome into a fork of the group that holds a copy of the hub's leaf.
   */
  static async join(opts: {
    welcome: Uint8Array
    pending: PendingJoin
    trust: TrustPolicy
    persist: PersistState
    signer?: Uint8Array
  }): Promise<SpaceSession> {
    const msg = decodeMessage(opts.welcome)
    if (msg.wireformat !== "mls_welcome") throw new CodecError(`expected a Welcome, got ${msg.wireformat}`)
    const keyPackage = decodeKeyPackage(opts.pending.keyPackage)
    const cs = await loadSuite(keyPackage.cipherSuite)
    let state: ClientState
    try {
      state = await joinGroup(
        msg.welcome,
        keyPackage,
        decodePrivatePackage(opts.pending.privatePackage),
        emptyPskIndex,
        cs,
        undefined,
        undefined,
        clientConfig(opts.trust),
      )
    } catch (cause) {
      throw new CryptoError("SIGNATURE_INVALID", "the Welcome could not be verified or is not for us", {
        cause,
      })
    }
    const session = new SpaceSession(state, cs, opts.persist)
    if (opts.signer) {
      const signerLeaf = await welcomeSignerLeaf(msg.welcome, keyPackage, opts.pending.privatePackage, cs)
      const signer = session.members().find((m) => m.leafIndex === signerLeaf)
      if (!signer || !equalBytes(signer.signaturePublicKey, opts.signer)) {
        throw new CryptoError("UNTRUSTED_CREDENTIAL", "the Welcome was not signed by the pinned key")
      }
    }
    await opts.persist(session.encode())
    return session
  }

  /** Restores a session saved by `encode()`. The trust policy is code, not state: it is re-attached. */
  static async restore(bytes: Uint8Array, opts: { trust: TrustPolicy; persist: PersistState }) {
    let decoded: ReturnType<typeof decodeGroupState>
    try {
      decoded = decodeGroupState(bytes, 0)
    } catch (cause) {
      throw new CodecError("corrupt group state", { cause })
    }
    if (!decoded) throw new CodecError("corrupt group state")
    const cs = await loadSuite(decoded[0].groupContext.cipherSuite)
    return new SpaceSession({ ...decoded[0], clientConfig: clientConfig(opts.trust) }, cs, opts.persist)
  }

  /** The serialized state (ts-mls's own encoding); secret, store it encrypted or on the hub's disk. */
  encode(): Uint8Array {
    return encodeGroupState(this.state)
  }

  get epoch(): bigint {
    return this.state.groupContext.epoch
  }

  get suite(): CiphersuiteName {
    return this.state.groupContext.cipherSuite
  }

  get groupId(): Uint8Array {
    return this.state.groupContext.groupId
  }

  get ownLeafIndex(): number {
    return this.state.privatePath.leafIndex
  }

  /** Public per-epoch value both sides can show for a confirmation code (RFC 9420 §8.7). */
  get epochAuthenticator(): Uint8Array {
    return this.state.keySchedule.epochAuthenticator
  }

  get signaturePrivateKey(): Uint8Array {
    return this.state.signaturePrivateKey
  }

  get signature() {
    return this.cs.signature
  }

  members(): Member[] {
    const out: Member[] = []
    this.state.ratchetTree.forEach((node, nodeIndex) => {
      if (node?.nodeType !== "leaf") return
      const identity = identityOf(node.leaf.credential)
      if (!identity) return
      out.push({ leafIndex: nodeIndex / 2, identity, signaturePublicKey: node.leaf.signaturePublicKey })
    })
    return out
  }

  /** Hub: adds a phone from its key package. Returns the commit for existing members and the Welcome. */
  addMember(keyPackageBytes: Uint8Array): Promise<{ commit: Uint8Array; welcome: Uint8Array }> {
    return this.queue.run(async () => {
      const keyPackage = decodeKeyPackage(keyPackageBytes)
      const add: Proposal = { proposalType: "add", add: { keyPackage } }
      const result = await this.commitLocked([add])
      if (!result.welcome) throw new ProtocolStateError("INTERNAL", "commit with an add produced no Welcome")
      return { commit: result.commit, welcome: result.welcome }
    })
  }

  /**
   * Hub: re-adds a device that lost its state, from a fresh key package, in one commit that also removes its
   * stale leaf. Returns the commit for the other members and the Welcome for the device.
   */
  readdMember(
    deviceId: DeviceId,
    keyPackageBytes: Uint8Array,
  ): Promise<{ commit: Uint8Array; welcome: Uint8Array }> {
    return this.queue.run(async () => {
      const keyPackage = decodeKeyPackage(keyPackageBytes)
      const stale = this.members().filter((m) => m.identity.deviceId === deviceId)
      const proposals: Proposal[] = [
        ...stale.map((m): Proposal => ({ proposalType: "remove", remove: { removed: m.leafIndex } })),
        { proposalType: "add", add: { keyPackage } },
      ]
      const result = await this.commitLocked(proposals)
      if (!result.welcome) throw new ProtocolStateError("INTERNAL", "commit with an add produced no Welcome")
      return { commit: result.commit, welcome: result.welcome }
    })
  }

  /** Hub: removes a device (lost or stolen phone); it can decrypt nothing sent after this commit. */
  removeMember(deviceId: DeviceId): Promise<{ commit: Uint8Array }> {
    return this.queue.run(async () => {
      const member = this.members().find((m) => m.identity.deviceId === deviceId)
      if (!member) throw new ProtocolStateError("NOT_A_MEMBER", `device ${deviceId} is not in the group`)
      const { commit } = await this.commitLocked([
        { proposalType: "remove", remove: { removed: member.leafIndex } },
      ])
      return { commit }
    })
  }

  /** Hub: an empty commit with a fresh path: a new epoch, old epoch secrets dropped. */
  rotate(): Promise<{ commit: Uint8Array }> {
    return this.queue.run(async () => {
      const { commit } = await this.commitLocked([])
      return { commit }
    })
  }

  private async commitLocked(proposals: Proposal[]) {
    const result = await createCommit(
      { state: this.state, cipherSuite: this.cs },
      { extraProposals: proposals, ratchetTreeExtension: true },
    )
    const commit = encodeMlsMessage(result.commit)
    const welcome = result.welcome
      ? encodeMlsMessage({ welcome: result.welcome, wireformat: "mls_welcome", version: "mls10" })
      : undefined
    await this.persist(encodeGroupState(result.newState))
    this.state = result.newState
    result.consumed.forEach(zeroOutUint8Array)
    return { commit, welcome }
  }

  /**
   * Encrypts a small message (notification, command, signalling) for the group, MLS-padded (RFC 9420
   * §6.3.1) so that its length shows only a bucket (lengthBuckets.ts, issue 14 finding 5).
   */
  seal(plaintext: Uint8Array): Promise<Uint8Array> {
    return this.queue.run(async () => {
      // The padded content is varint(len) | data | varint(len) | signature: pad until the bucket of an
      // upper bound of that, which MLS then reaches exactly.
      const paddingConfig = {
        kind: "padUntilLength" as const,
        padUntilLength: bucketLength(plaintext.length + 4 + maxSignatureOverhead),
      }
      const config = this.state.clientConfig
      const result = await createApplicationMessage(
        { ...this.state, clientConfig: { ...config, paddingConfig } },
        plaintext,
        this.cs,
      )
      result.newState = { ...result.newState, clientConfig: config }
      await this.persist(encodeGroupState(result.newState))
      this.state = result.newState
      result.consumed.forEach(zeroOutUint8Array)
      return encodeMlsMessage({
        privateMessage: result.privateMessage,
        wireformat: "mls_private_message",
        version: "mls10",
      })
    })
  }

  /**
   * Processes an incoming private message. `acceptCommitFrom` says which leaf may commit (phones accept only
   * the hub's); everything else is rejected with a typed error and leaves the state unchanged.
   */
  open(bytes: Uint8Array, acceptCommitFrom?: number): Promise<Incoming> {
    return this.queue.run(async () => {
      const msg = decodeMessage(bytes)
      if (msg.wireformat !== "mls_private_message") {
        throw new ProtocolStateError(
          "UNEXPECTED_MESSAGE",
          `expected a private message, got ${msg.wireformat}`,
        )
      }
      if (
        msg.privateMessage.epoch <
        this.state.groupContext.epoch - BigInt(keyRetentionConfig.retainKeysForEpochs)
      ) {
        throw new ProtocolStateError(
          "EPOCH_TOO_OLD",
          `message from epoch ${msg.privateMessage.epoch} is too old`,
        )
      }
      // Proposals by reference are not used here, and ts-mls keeps an accepted one to fold into this
      // member's next commit: one proposal from a phone (an Add of a second leaf, a Remove of the hub)
      // would make every later commit of the hub fail. Refuse them before they reach the state.
      let sawProposal = false
      const policy: IncomingMessageCallback = (incoming) => {
        if (incoming.kind === "proposal") {
          sawProposal = true
          return "reject"
        }
        if (incoming.kind === "commit" && acceptCommitFrom !== undefined) {
          return incoming.senderLeafIndex === acceptCommitFrom ? "accept" : "reject"
        }
        return "accept"
      }
      // The epoch in a private message's header is plaintext that anyone (the relay above all) can write:
      // a later epoch is a hint, not evidence that a commit was missed. Nothing here may act on it; the
      // caller keeps the message until a commit reaches that epoch (issue 14, finding 2).
      if (msg.privateMessage.epoch > this.state.groupContext.epoch) {
        throw new ProtocolStateError(
          "EPOCH_AHEAD",
          `message claims epoch ${msg.privateMessage.epoch}, later than ours (unauthenticated)`,
        )
      }
      let result: Awaited<ReturnType<typeof processPrivateMessage>>
      try {
        result = await processPrivateMessage(this.state, msg.privateMessage, emptyPskIndex, this.cs, policy)
      } catch (cause) {
        throw new CryptoError("SIGNATURE_INVALID", "message failed MLS verification", { cause })
      }
      const epochBefore = this.state.groupContext.epoch
      if (result.kind === "newState") {
        const advanced =
          result.newState.groupContext.epoch !== epochBefore ||
          result.newState.groupActiveState.kind !== "active"
        // Checked before anything is saved: a message that is neither application data nor a commit this
        // member takes must leave the state exactly as it was.
        if (sawProposal || (!advanced && result.actionTaken !== "reject")) {
          throw new ProtocolStateError(
            "UNEXPECTED_MESSAGE",
            "proposals by reference are not used in this protocol",
          )
        }
        if (result.actionTaken === "reject") {
          throw new CryptoError("UNTRUSTED_CREDENTIAL", "commit from a member that may not commit")
        }
      }
      await this.persist(encodeGroupState(result.newState))
      this.state = result.newState
      result.consumed.forEach(zeroOutUint8Array)
      if (result.kind === "applicationMessage") {
        return { kind: "application", data: result.message, epoch: msg.privateMessage.epoch }
      }
      const removedSelf = this.state.groupActiveState.kind !== "active"
      return { kind: "commit", epoch: this.epoch, removedSelf }
    })
  }

  /** Derives a secret bound to the current epoch (RFC 9420 §8.5); the clip and live keys come from here. */
  exportSecret(
    label: string,
    context: Uint8Array,
    length: number,
  ): Promise<{ secret: Uint8Array; epoch: bigint }> {
    return this.queue.run(async () => ({
      secret: await mlsExporter(this.state.keySchedule.exporterSecret, label, context, length, this.cs),
      epoch: this.state.groupContext.epoch,
    }))
  }
}
