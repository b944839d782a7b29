/* SPDX-License-Identifier: MIT */
/*
 * crt0.S - reset entry for QEMU's virt machine (RV32, -bios none).
 *
 * QEMU's reset code jumps here on every hart with a0 = mhartid. Hart 0
 * gets the main stack and goes on to rv_start (startup.c: .bss, main,
 * exit); any other hart gets a small stack of its own and runs
 * rv_other_hart, which parks it unless a test gives it work. Only what C
 * cannot do is here: the stack pointer, gp, and a trap vector in place
 * before the first C instruction, so that even a crash in startup is
 * reported instead of looping.
 */
    .option arch, +zicsr

    .section .text.init, "ax", @progbits
    .globl _start
_start:
    csrw    mie, zero
    csrci   mstatus, 8          /* mstatus.MIE: no interrupts until asked */
    .option push
    .option norelax             /* gp must not be set relative to itself */
    la      gp, __global_pointer$
    .option pop
    la      t0, rv_trap_default
    csrw    mtvec, t0
    csrr    a0, mhartid
    bnez    a0, 1f
    la      sp, __stack_top
    call    rv_start
    j       rv_halt
1:
    la      sp, __stack1_top
    call    rv_other_hart
    j       rv_halt
